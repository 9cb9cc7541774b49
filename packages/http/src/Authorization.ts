/**
 * The security of the API: the middleware tag that guards the endpoints which change state.
 * Its implementation, which checks `API_TOKEN`, is AuthorizationLive.
 */
import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Unauthorized } from "./ApiErrors.js"

/** Guards the endpoints that change state: with `API_TOKEN` set they need `Authorization: Bearer <token>`. */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("@ircam/http/Authorization", {
  failure: Unauthorized,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

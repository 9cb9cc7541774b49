/**
 * The bearer-token check behind `Authorization`: with no `API_TOKEN` every request passes;
 * with one, the given token must match, compared in constant time.
 */
import { AppConfig } from "@ircam/core/AppConfig"
import { Effect, Layer, Option, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { Unauthorized } from "./ApiErrors.js"
import { Authorization } from "./Authorization.js"

// Hashing first gives equal-length inputs, so neither the content nor the length of the token leaks.
const digest = (value: string) => createHash("sha256").update(value, "utf8").digest()

export const tokensMatch = (given: string, expected: string): boolean =>
  timingSafeEqual(digest(given), digest(expected))

export const layer: Layer.Layer<Authorization, never, AppConfig> = Layer.effect(
  Authorization,
  Effect.map(AppConfig, ({ apiToken }) =>
    Authorization.of({
      bearer: (given) =>
        Option.match(apiToken, {
          onNone: () => Effect.void,
          onSome: (token) =>
            tokensMatch(Redacted.value(given), Redacted.value(token))
              ? Effect.void
              : Effect.fail(
                new Unauthorized({
                  message: Redacted.value(given) === ""
                    ? "this request changes state and needs the header Authorization: Bearer <API_TOKEN>"
                    : "the bearer token is not valid"
                })
              )
        })
    }))
)

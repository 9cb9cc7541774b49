/**
 * Errors that only the HTTP API answers (the domain's own errors live with their services).
 * Every error body is JSON with a `_tag` and a human `message`.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

export class NoFrameYet extends Schema.TaggedError<NoFrameYet>()(
  "NoFrameYet",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {
  static readonly instance = new NoFrameYet({ message: "no frame has been received from the sensor yet" })
}

export class TooManyStreams extends Schema.TaggedError<TooManyStreams>()(
  "TooManyStreams",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

export class FrameNotFound extends Schema.TaggedError<FrameNotFound>()(
  "FrameNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

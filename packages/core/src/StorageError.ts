/**
 * StorageError: the database could not be read or written (a full or read-only disk, an I/O
 * error, a row that no longer decodes). Every repository fails with it, through `mapError`; the
 * API answers it as a 503 with its message.
 */
import { type SqlClient, SqlError } from "@effect/sql"
import { Effect, Option, type ParseResult, Schema } from "effect"

export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  message: Schema.String
}) {}

/** The error for a failed `what` ("cannot store the alarm"), with the driver's own reason. */
export const storageError = (what: string) => (error: SqlError.SqlError | ParseResult.ParseError): StorageError =>
  new StorageError({
    // trimmed: @effect/sql's "Failed to prepare statement " ends with a space
    message: `${what}: ${error.message.trim()}${
      error._tag === "SqlError" && error.cause instanceof Error ? ` (${error.cause.message})` : ""
    }`
  })

/** `Effect.mapError` with `storageError(what)`. */
export const mapError = (what: string) =>
<A, R>(
  effect: Effect.Effect<A, SqlError.SqlError | ParseResult.ParseError, R>
): Effect.Effect<A, StorageError, R> => Effect.mapError(effect, storageError(what))

/** Turns the `SqlError`s among `effect`'s errors into StorageErrors; its other errors stay as they are. */
export const mapSqlError =
  (what: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, SqlError.SqlError> | StorageError, R> =>
    Effect.catchIf(
      effect,
      (error): error is Extract<E, SqlError.SqlError> => error instanceof SqlError.SqlError,
      (error) => Effect.fail(storageError(what)(error))
    ) as Effect.Effect<A, Exclude<E, SqlError.SqlError> | StorageError, R>

/**
 * `effect` in one transaction of `sql`; a failure to begin or commit it is a StorageError too
 * (@effect/sql makes a failed COMMIT a defect: on a full disk it is the usual failure, and SQLite
 * has rolled the transaction back by then). Every repository write the caller makes inside joins it.
 */
export const transaction =
  (sql: SqlClient.SqlClient, what: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, SqlError.SqlError> | StorageError, R> =>
    sql.withTransaction(effect).pipe(
      mapSqlError(what),
      Effect.catchSomeDefect((defect) =>
        defect instanceof SqlError.SqlError ? Option.some(Effect.fail(storageError(what)(defect))) : Option.none()
      )
    )

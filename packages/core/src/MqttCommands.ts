/**
 * Commands over MQTT (`MQTT_COMMANDS=true`; the broker's ACL decides who may send them):
 *
 *   <prefix>/commands/record       {} or {"label": "…"}: records an event, as POST /events does
 *   <prefix>/commands/acknowledge  {"alarmId": 3}, or {"all": true} for every active alarm
 *
 * Each may carry a `requestId` (a string), echoed in the result. The result of every command,
 * done or refused, is published on `<prefix>/commands/result`: `{command, requestId?, ok: true,
 * …}` or `{command, requestId?, ok: false, error: {_tag, message}}`. A bad payload is refused
 * with `InvalidCommand` naming the field; nothing a client sends can do more.
 */
import { Array as Arr, Effect, Either, Option, ParseResult, Schema } from "effect"
import { AlarmId } from "./Alarm.js"
import { AlarmEngine } from "./AlarmEngine.js"
import { toJson as eventJson } from "./Event.js"
import { EventStore } from "./EventStore.js"

export type Command = "record" | "acknowledge"

const RequestId = Schema.String.pipe(Schema.maxLength(100))

const strict = { parseOptions: { onExcessProperty: "error" as const } }

export const RecordCommand = Schema.Struct({
  label: Schema.optional(Schema.Trim.pipe(Schema.minLength(1), Schema.maxLength(200))),
  requestId: Schema.optional(RequestId)
}).annotations(strict)

export const AcknowledgeOne = Schema.Struct({ alarmId: AlarmId, requestId: Schema.optional(RequestId) })
  .annotations(strict)

export const AcknowledgeAll = Schema.Struct({ all: Schema.Literal(true), requestId: Schema.optional(RequestId) })
  .annotations(strict)

export interface CommandError {
  readonly _tag: string
  readonly message: string
}

/** What is published on `<prefix>/commands/result`. */
export type Result =
  & { readonly command: Command; readonly requestId?: string }
  & ({ readonly ok: true; readonly [key: string]: unknown } | { readonly ok: false; readonly error: CommandError })

const invalid = (message: string): CommandError => ({ _tag: "InvalidCommand", message })

/** The payload as JSON (`empty` for an empty one), or why not. */
const jsonOf = (payload: string, empty: unknown): Either.Either<unknown, CommandError> => {
  if (payload.trim() === "") return Either.right(empty)
  try {
    return Either.right(JSON.parse(payload))
  } catch {
    return Either.left(invalid(`the payload is not JSON: ${payload.slice(0, 100)}`))
  }
}

/** `json` decoded with `schema`, or why not (naming the field). */
const decode = <A, I>(schema: Schema.Schema<A, I>, json: unknown): Either.Either<A, CommandError> =>
  Schema.decodeUnknownEither(schema)(json).pipe(
    Either.mapLeft((error) => {
      const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
      return invalid(
        issue === undefined || issue.path.length === 0
          ? issue?.message ?? "invalid payload"
          : `${issue.path.join(".")}: ${issue.message}`
      )
    })
  )

const has = (json: unknown, key: string) => typeof json === "object" && json !== null && key in json

/** An acknowledgement of one alarm (`alarmId`) or of all (`all: true`), told apart by which is given. */
const acknowledgement = (
  json: unknown
): Either.Either<typeof AcknowledgeOne.Type | typeof AcknowledgeAll.Type, CommandError> =>
  has(json, "all")
    ? decode(AcknowledgeAll, json)
    : has(json, "alarmId")
    ? decode(AcknowledgeOne, json)
    : Either.left(invalid("give alarmId (the alarm to acknowledge) or all: true (every active alarm)"))

/** A request id a payload carries, read even from a payload that is refused. */
const requestIdOf = (payload: string): { readonly requestId?: string } => {
  try {
    const json: unknown = JSON.parse(payload)
    const id = typeof json === "object" && json !== null ? (json as { requestId?: unknown }).requestId : undefined
    return typeof id === "string" && id.length <= 100 ? { requestId: id } : {}
  } catch {
    return {}
  }
}

const failed = (error: { readonly _tag: string; readonly message: string }): CommandError => ({
  _tag: error._tag,
  message: error.message
})

/** Runs the command `payload` asks for; never fails: a refusal is a result too. */
export const run = (command: Command, payload: string): Effect.Effect<Result, never, EventStore | AlarmEngine> =>
  Effect.gen(function*() {
    const requestId = requestIdOf(payload)
    const refuse = (error: CommandError): Result => ({ command, ...requestId, ok: false, error })
    if (command === "record") {
      const input = Either.flatMap(jsonOf(payload, {}), (json) => decode(RecordCommand, json))
      if (Either.isLeft(input)) return refuse(input.left)
      const store = yield* EventStore
      return yield* store.trigger({ kind: "manual", label: input.right.label }).pipe(
        Effect.map((event): Result => ({ command, ...requestId, ok: true, event: eventJson(event) })),
        Effect.catchAll((error) => Effect.succeed(refuse(failed(error))))
      )
    }
    const input = Either.flatMap(jsonOf(payload, undefined), acknowledgement)
    if (Either.isLeft(input)) return refuse(input.left)
    const engine = yield* AlarmEngine
    const acknowledged = "alarmId" in input.right
      ? Effect.map(engine.acknowledge(input.right.alarmId), (alarm) => [alarm])
      : Effect.flatMap(engine.active, (alarms) =>
        Effect.map(
          Effect.forEach(
            alarms.filter((alarm) => alarm.acknowledgedAt === null),
            // one that cleared meanwhile is no longer to acknowledge
            (alarm) =>
              engine.acknowledge(alarm.id).pipe(
                Effect.map(Option.some),
                Effect.catchTag("AlarmNotActive", () => Effect.succeedNone)
              )
          ),
          Arr.getSomes
        ))
    return yield* acknowledged.pipe(
      Effect.map((alarms): Result => ({ command, ...requestId, ok: true, alarms })),
      Effect.catchAll((error) => Effect.succeed(refuse(failed(error))))
    )
  })

/**
 * OutboxRepo on an in-memory database: rows queued on several channels, their outcomes, the
 * listing's filters and counts, a payload that cannot be read, and every failure (a row that no
 * longer decodes, a table that cannot be written) as a StorageError.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Notification } from "../src/Alarm.js"
import { OutboxRepo } from "../src/OutboxRepo.js"
import { StorageError } from "../src/StorageError.js"
import * as TestCore from "./support/TestCore.js"

const payload = (type: Notification["type"]) =>
  JSON.stringify({ type, timestamp: "2026-11-24T10:00:00.000Z", data: {} })

describe("OutboxRepo", () => {
  it.effect("queues a notification once a channel; outcomes, pending rows, listing, counts", () =>
    Effect.gen(function*() {
      const repo = yield* OutboxRepo
      const raised = yield* repo.insert(
        [{ channel: "webhook", messageId: "msg_1" }, { channel: "email", messageId: "msg_2" }],
        payload("alarm.raised"),
        1000
      )
      assert.deepStrictEqual(raised.map((row) => row.channel), ["webhook", "email"])
      const [webhook, email] = raised.map((row) => row.id) as [number, number]
      const [cleared] = yield* repo.insert([{ channel: "webhook", messageId: "msg_3" }], payload("alarm.cleared"), 2000)
      const later = cleared!.id

      assert.deepStrictEqual(yield* repo.pendingIds("webhook"), [{ id: webhook, createdAt: 1000 }, {
        id: later,
        createdAt: 2000
      }])
      assert.deepStrictEqual(yield* repo.pending([later, webhook]), [
        {
          id: webhook,
          channel: "webhook",
          messageId: "msg_1",
          payload: payload("alarm.raised"),
          type: "alarm.raised",
          attempts: 0,
          createdAt: 1000
        },
        {
          id: later,
          channel: "webhook",
          messageId: "msg_3",
          payload: payload("alarm.cleared"),
          type: "alarm.cleared",
          attempts: 0,
          createdAt: 2000
        }
      ])

      yield* repo.failed(webhook, 1, "HTTP 503", 6000)
      yield* repo.delivered(webhook, 2, 6500)
      yield* repo.givenUp(email, 7, "550 no such user", 90_000)
      assert.deepStrictEqual(yield* repo.pending([webhook, email, later]), [
        {
          id: later,
          channel: "webhook",
          messageId: "msg_3",
          payload: payload("alarm.cleared"),
          type: "alarm.cleared",
          attempts: 0,
          createdAt: 2000
        }
      ], "rows no longer pending are left out")
      yield* repo.failed(later, 1, "HTTP 500", 7000)

      const listed = yield* repo.list({ limit: 10 })
      assert.deepStrictEqual(listed, [
        {
          id: later,
          channel: "webhook",
          messageId: "msg_3",
          type: "alarm.cleared",
          status: "pending",
          attempts: 1,
          lastError: "HTTP 500",
          createdAt: 2000,
          deliveredAt: null,
          nextAttemptAt: 7000
        },
        {
          id: email,
          channel: "email",
          messageId: "msg_2",
          type: "alarm.raised",
          status: "given_up",
          attempts: 7,
          lastError: "550 no such user",
          createdAt: 1000,
          deliveredAt: null,
          nextAttemptAt: null
        },
        {
          id: webhook,
          channel: "webhook",
          messageId: "msg_1",
          type: "alarm.raised",
          status: "delivered",
          attempts: 2,
          lastError: "HTTP 503",
          createdAt: 1000,
          deliveredAt: 6500,
          nextAttemptAt: null
        }
      ])
      const ids = (query: Parameters<typeof repo.list>[0]) =>
        Effect.map(repo.list(query), (rows) => rows.map((row) => row.id))
      assert.deepStrictEqual(yield* ids({ limit: 10, status: "delivered" }), [webhook])
      assert.deepStrictEqual(yield* ids({ limit: 10, channel: "webhook" }), [later, webhook])
      assert.deepStrictEqual(yield* ids({ limit: 1, before: later }), [email])

      const count = yield* repo.counts
      assert.deepStrictEqual([count("pending"), count("delivered"), count("given_up")], [1, 1, 1])
      assert.deepStrictEqual(yield* repo.pendingByChannel, [{ channel: "webhook", n: 1 }])
      assert.deepStrictEqual(yield* repo.pendingIds("email"), [])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a payload that cannot be read has no type; any channel name a sender uses is kept", () =>
    Effect.gen(function*() {
      const repo = yield* OutboxRepo
      yield* repo.insert([{ channel: "mqtt", messageId: "msg_a" }], "{not json", 0)
      yield* repo.insert([{ channel: "mqtt", messageId: "msg_b" }], JSON.stringify({ type: "alarm.exploded" }), 0)
      yield* repo.insert([{ channel: "mqtt", messageId: "msg_c" }], JSON.stringify({ type: 42 }), 0)
      assert.deepStrictEqual((yield* repo.list({ limit: 10 })).map((row) => [row.channel, row.type]), [
        ["mqtt", null],
        ["mqtt", null],
        ["mqtt", null]
      ])
      const ids = (yield* repo.pendingIds("mqtt")).map((row) => row.id)
      assert.deepStrictEqual((yield* repo.pending(ids)).map((row) => row.type), [null, null, null])
      assert.deepStrictEqual(yield* repo.pendingByChannel, [{ channel: "mqtt", n: 3 }])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a row that no longer decodes is a StorageError naming what could not be read", () =>
    Effect.gen(function*() {
      const repo = yield* OutboxRepo
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* repo.insert([{ channel: "webhook", messageId: "msg_1" }], payload("alarm.raised"), 0)
      yield* sql`UPDATE outbox SET attempts = -1 WHERE id = ${row!.id}`
      for (
        const [failure, what] of [
          [Effect.asVoid(repo.list({ limit: 10 })), "cannot list the notification deliveries"],
          [Effect.asVoid(repo.pending([row!.id])), "cannot read the outbox"]
        ] as const
      ) {
        const error = yield* Effect.flip(failure)
        assert.instanceOf(error, StorageError)
        assert.include(error.message, what)
        assert.include(error.message, "attempts")
      }
      yield* sql`UPDATE outbox SET attempts = 0, channel = 'Web Hook!' WHERE id = ${row!.id}`
      for (
        const failure of [
          Effect.asVoid(repo.list({ limit: 10 })),
          Effect.asVoid(repo.pending([row!.id])),
          Effect.asVoid(repo.pendingByChannel)
        ]
      ) {
        const error = yield* Effect.flip(failure)
        assert.instanceOf(error, StorageError)
        assert.include(error.message, "channel")
      }
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a table that cannot be written is a StorageError with the driver's reason", () =>
    Effect.gen(function*() {
      const repo = yield* OutboxRepo
      yield* (yield* SqlClient.SqlClient)`DROP TABLE outbox`
      const error = yield* Effect.flip(repo.insert([{ channel: "webhook", messageId: "msg_1" }], "{}", 0))
      assert.instanceOf(error, StorageError)
      assert.strictEqual(error._tag, "StorageError")
      assert.include(error.message, "cannot store the notification")
      assert.include(error.message, "no such table: outbox")
      for (
        const failure of [
          repo.pendingIds("webhook"),
          repo.delivered(1, 1, 0),
          repo.failed(1, 1, "x", 0),
          repo.givenUp(1, 1, "x", 0),
          repo.counts
        ]
      ) {
        assert.instanceOf(yield* Effect.flip(failure), StorageError)
      }
    }).pipe(Effect.provide(TestCore.storage())))
})

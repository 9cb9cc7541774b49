import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { AppConfig } from "@ircam/core/AppConfig"
import * as Database from "@ircam/core/Database"
import { Effect, Layer } from "effect"
import { pageCacheKib, PageCacheLive } from "../src/Serve.js"

const DatabaseTest = Database.layer.pipe(
  Layer.provide(AppConfig.layerWith({ databasePath: ":memory:" }))
)

const cacheSize = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => Effect.map(sql<{ cacheSize: number }>`PRAGMA cache_size`, ([row]) => row?.cacheSize)
)

describe("ircam serve's database", () => {
  it.effect("keeps SQLite's page cache at 2 MB, not the 16 MB better-sqlite3 builds it with", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* cacheSize.pipe(Effect.provide(DatabaseTest)), -16000)
      assert.strictEqual(
        yield* cacheSize.pipe(Effect.provide(PageCacheLive.pipe(Layer.provideMerge(DatabaseTest)))),
        -pageCacheKib
      )
    }))
})

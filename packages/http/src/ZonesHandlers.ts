/**
 * The handlers of the `zones` group: zones CRUD (ZoneRepo) and their statistics on the latest frame.
 */
import { HttpApiBuilder } from "@effect/platform"
import { round2 } from "@ircam/core/Frame"
import { stats } from "@ircam/core/Zone"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Effect } from "effect"
import { IrcamApi } from "./Api.js"
import * as LatestFrame from "./LatestFrame.js"

export const layer = HttpApiBuilder.group(IrcamApi, "zones", (handlers) =>
  Effect.gen(function*() {
    const repo = yield* ZoneRepo
    return handlers
      .handle("list", () => repo.list)
      .handle("create", ({ payload }) => repo.create(payload))
      .handle("get", ({ path }) => repo.get(path.id))
      .handle("update", ({ path, payload }) => repo.update(path.id, payload))
      .handle("remove", ({ path }) => repo.remove(path.id))
      .handle("average", ({ path }) =>
        Effect.gen(function*() {
          const zone = yield* repo.get(path.id)
          const { frame, zones } = yield* LatestFrame.snapshot
          // a zone created since the latest frame has no statistics on it yet
          const zoneStats = zones.find((s) => s.zoneId === zone.id) ?? stats(frame, zone)
          return {
            zoneId: zone.id,
            average: round2(zoneStats.average),
            min: round2(zoneStats.min),
            max: round2(zoneStats.max),
            capturedAt: new Date(frame.capturedAt).toISOString()
          }
        }))
  }))

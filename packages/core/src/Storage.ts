/**
 * Storage: the database and the repositories on it, and nothing else: what the CLI's database
 * commands open (never the monitor or the sensor), and the base of Core.
 */
import { Layer } from "effect"
import { AlarmRepo } from "./AlarmRepo.js"
import * as Database from "./Database.js"
import { EventRepo } from "./EventRepo.js"
import { HistoryRepo } from "./HistoryRepo.js"
import { OutboxRepo } from "./OutboxRepo.js"
import { ZoneRepo } from "./ZoneRepo.js"

/** SqlClient on `DATABASE_PATH`, migrated, with ZoneRepo, EventRepo, AlarmRepo, OutboxRepo and HistoryRepo. */
export const layer = Layer.mergeAll(
  ZoneRepo.Default,
  EventRepo.Default,
  AlarmRepo.Default,
  OutboxRepo.Default,
  HistoryRepo.Default
).pipe(
  Layer.provideMerge(Database.layer)
)

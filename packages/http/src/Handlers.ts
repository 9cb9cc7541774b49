/**
 * The handlers of every group of `IrcamApi`, one module a group, as one layer.
 */
import { Layer } from "effect"
import * as AlarmsHandlers from "./AlarmsHandlers.js"
import * as EventsHandlers from "./EventsHandlers.js"
import * as HealthHandlers from "./HealthHandlers.js"
import * as HistoryHandlers from "./HistoryHandlers.js"
import * as ImagesHandlers from "./ImagesHandlers.js"
import * as ThermalHandlers from "./ThermalHandlers.js"
import * as ZonesHandlers from "./ZonesHandlers.js"

export const layer = Layer.mergeAll(
  ThermalHandlers.layer,
  ImagesHandlers.layer,
  ZonesHandlers.layer,
  EventsHandlers.layer,
  AlarmsHandlers.layer,
  HealthHandlers.layer,
  HistoryHandlers.layer
)

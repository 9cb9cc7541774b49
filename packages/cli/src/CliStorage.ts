/**
 * What the database commands run on: the database at `DATABASE_PATH` (from the environment and
 * `.env`), migrated, with its repositories and the configuration; never the monitor or the sensor.
 */
import { AppConfig } from "@ircam/core/AppConfig"
import * as Storage from "@ircam/core/Storage"
import { Layer } from "effect"

export const layer = Storage.layer.pipe(Layer.provideMerge(AppConfig.layer))

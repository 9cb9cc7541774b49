/**
 * SensorLive: the `Sensor` that `SENSOR` asks for.
 *
 * - `mlx90640`: the MLX90640 on `I2C_BUS` at `I2C_ADDRESS`; if it does not work, start-up stops
 *   with what to check.
 * - `auto` (default): the MLX90640 when it answers, otherwise the simulated scene, with a
 *   warning in the log and a note in health.
 * - `emulated`: the real driver on an emulated MLX90640 (no hardware; `EMULATOR_FAULT_RATE`
 *   injects bus errors), for demos and for trying the driver's recovery.
 * - `simulated` (or `MOCK_SENSOR=1`): the simulated scene.
 */
import { AppConfig, type AppConfigShape } from "@ircam/core/AppConfig"
import type { Sensor } from "@ircam/core/Sensor"
import { SensorError } from "@ircam/core/Sensor"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect, Layer } from "effect"
import * as EmulatedMlx90640 from "./EmulatedMlx90640.js"
import type { I2cError } from "./I2cBus.js"
import { hex, I2cBus, make as makeBus } from "./I2cBus.js"
import * as I2cTransportLive from "./I2cTransportLive.js"
import * as Mlx90640Sensor from "./Mlx90640Sensor.js"

/** Opens the I²C bus the configuration names, for the device at its address. */
export type BusOpener = (config: AppConfigShape) => Layer.Layer<I2cBus, I2cError>

export const linuxBus: BusOpener = (config) =>
  Layer.scoped(
    I2cBus,
    Effect.map(
      I2cTransportLive.open(config.i2cBus),
      (transport) => makeBus(transport, { bus: config.i2cBus, address: config.i2cAddress })
    )
  )

const checklist = (config: AppConfigShape) => [
  `is I²C enabled (sudo raspi-config → Interface Options → I2C, or dtparam=i2c_arm=on in /boot/firmware/config.txt, then reboot)?`,
  `is I2C_BUS=${config.i2cBus} the bus the sensor is on (ls /dev/i2c-*)?`,
  `may this user open /dev/i2c-${config.i2cBus} (sudo usermod -aG i2c $USER, then log in again)?`,
  `does the sensor answer at I2C_ADDRESS=${hex(config.i2cAddress, 2)} (i2cdetect -y ${config.i2cBus}; ` +
  `wiring: 3.3 V, GND, SDA to GPIO 2, SCL to GPIO 3)?`
]

/** Which of the checks a failure points to first. */
const likelyCheck = (error: I2cError | SensorError): number | undefined => {
  if (error._tag === "SensorError") return undefined
  switch (error.code) {
    case "ENOENT":
      return 0
    case "EACCES":
    case "EPERM":
      return 2
    case "ENXIO":
    case "EREMOTEIO":
    case "EIO":
    case "ETIMEDOUT":
      return 3
    default:
      return undefined
  }
}

/** Why the MLX90640 cannot be used, and what to check. */
export const explainUnavailable = (config: AppConfigShape, error: I2cError | SensorError): string => {
  const checks = checklist(config)
  const first = likelyCheck(error)
  const ordered = first === undefined ? checks : [checks[first]!, ...checks.filter((_, i) => i !== first)]
  const cause = /[.?!]$/.test(error.message) ? error.message : `${error.message}.`
  return `no working MLX90640 on I²C bus ${config.i2cBus} at ${hex(config.i2cAddress, 2)}: ${cause} ` +
    `Check: ${ordered.join(" ")}`
}

const driverOptions = (config: AppConfigShape) => ({
  refreshRateHz: config.refreshRateHz,
  emissivity: config.emissivity
})

const simulated = (note: string) => Layer.unwrapEffect(Effect.as(Effect.logWarning(note), SimulatedSensor.layer(note)))

/** `SensorLive.layer` with another way to open the bus (tests). */
export const makeLayer = (openBus: BusOpener): Layer.Layer<Sensor, SensorError, AppConfig> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const config = yield* AppConfig
      const mlx90640 = (note?: string) =>
        Mlx90640Sensor.layer({ ...driverOptions(config), ...(note === undefined ? {} : { note }) }).pipe(
          Layer.provide(openBus(config))
        )
      switch (config.sensor) {
        case "simulated":
          yield* Effect.logInfo("sensor: simulated scene")
          return SimulatedSensor.layer()
        case "emulated": {
          const note = "SENSOR=emulated: an emulated MLX90640 read through the real driver; " +
            "the temperatures are the simulated scene, not a measurement"
          yield* Effect.logWarning(note)
          return Mlx90640Sensor.layer({ ...driverOptions(config), kind: "emulated", note }).pipe(
            Layer.provide(EmulatedMlx90640.layer({
              bus: config.i2cBus,
              address: config.i2cAddress,
              emissivity: config.emissivity,
              seed: config.simulationSeed,
              faultRate: config.emulatorFaultRate
            })),
            Layer.mapError((error) =>
              error._tag === "SensorError"
                ? error
                : new SensorError({ reason: "Unavailable", message: error.message, cause: error })
            )
          )
        }
        case "mlx90640":
          return mlx90640().pipe(
            Layer.mapError((error) =>
              new SensorError({
                reason: "Unavailable",
                message: `SENSOR=mlx90640: ${explainUnavailable(config, error)}`,
                cause: error
              })
            )
          )
        case "auto":
          return mlx90640("SENSOR=auto: the MLX90640 answered").pipe(
            Layer.catchAll((error) =>
              simulated(
                `SENSOR=auto: no MLX90640 answered on I²C bus ${config.i2cBus} at ${hex(config.i2cAddress, 2)} ` +
                  `(${error.message}); serving the simulated scene`
              )
            )
          )
      }
    })
  )

export const layer: Layer.Layer<Sensor, SensorError, AppConfig> = makeLayer(linuxBus)

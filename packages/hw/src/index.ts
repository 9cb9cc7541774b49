export * as SensorLive from "./SensorLive.js"

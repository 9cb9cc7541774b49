export * as Mlx90640Dump from "./Mlx90640Dump.js"
export * as Mlx90640Frame from "./Mlx90640Frame.js"
export * as Mlx90640Parameters from "./Mlx90640Parameters.js"
export * as SensorLive from "./SensorLive.js"

export * as Cli from "./Cli.js"
export * as ErrorReport from "./ErrorReport.js"
export * as Serve from "./Serve.js"

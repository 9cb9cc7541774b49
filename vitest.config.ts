import { defineConfig } from "vitest/config"

export default defineConfig({
  // Tests run the TypeScript sources: the workspace packages export them under "@ircam/source"
  // (the others are Vite's defaults, which a list given here replaces).
  ssr: { resolve: { conditions: ["@ircam/source", "module", "node", "development|production"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**/*.ts"],
      exclude: ["**/bin.ts", "**/index.ts"],
      reporter: ["text", "json-summary"],
      thresholds: { lines: 85, branches: 85, functions: 85, statements: 85 }
    }
  }
})

import { defineConfig } from "vitest/config"

export default defineConfig({
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

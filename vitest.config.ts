import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The documentation's examples import the package by its name, as an app would: here that is
  // the source (tsconfig.json's `paths` says the same to the type checker).
  resolve: {
    alias: [
      {
        find: /^visitor-pass$/,
        replacement: fileURLToPath(new URL("src/index.ts", import.meta.url)),
      },
      {
        find: /^visitor-pass\/(express|fastify|hono|fetch)$/,
        replacement: fileURLToPath(new URL("src/adapters/$1/index.ts", import.meta.url)),
      },
      {
        find: /^visitor-pass\/mail$/,
        replacement: fileURLToPath(new URL("src/features/mail/index.ts", import.meta.url)),
      },
    ],
  },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    reporters: ["default", "./test/support/skip-summary.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Off unless asked for (`npm test -- --coverage`, `npm run test:coverage`): CI asks for it.
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      exclude: [
        "src/**/*.test.ts",
        // Types only: nothing runs, so nothing to cover.
        "src/store/store.ts",
        "src/store/kysely/schema.ts",
        // The CLI's process entry: the tests run the program it starts in-process.
        "src/cli/index.ts",
      ],
      reporter: ["text-summary", "lcov", "html"],
      reportsDirectory: "coverage",
      // A little below what the full suite covers with every service present (as in CI), so
      // that CI fails when a change leaves code untested; raise them as coverage grows. A run
      // without PostgreSQL, MariaDB or Redis skips their suites and can fall below them.
      thresholds: {
        lines: 94.5,
        statements: 93,
        functions: 94.5,
        branches: 88,
      },
    },
  },
});

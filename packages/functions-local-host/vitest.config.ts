import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "functions-local-host",
    include: ["test/**/*.test.ts"],
    pool: "forks",
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

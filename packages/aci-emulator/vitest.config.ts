import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "aci-emulator",
    include: ["test/**/*.test.ts"],
    // Tests start real emulators and child processes; forks keep each file's apart.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

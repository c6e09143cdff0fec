import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // `npm test` runs every package's tests too: each package has its own config.
    projects: [
      {
        extends: true,
        test: {
          name: "burst",
          include: ["test/**/*.test.ts"],
          // Tests spawn real servers (Azurite, the ACI emulator, local hosts); forks keep
          // each file's child processes and globals apart.
          pool: "forks",
          globalSetup: ["test/support/globalSetup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          teardownTimeout: 30_000,
        },
      },
      "packages/*",
    ],
  },
});

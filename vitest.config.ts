import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Most test time is waiting on child processes (Azurite, emulators, hosts), not CPU:
    // three files at once on two cores took 389 s against 808 s one at a time for the same
    // suite (README, Development).
    maxWorkers: 3,
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
          // Generous: on a loaded 2-core machine a stack's first job can take 20 s to launch.
          // A passing test takes no longer for it; a stuck one still fails, saying what it awaited.
          testTimeout: 120_000,
          hookTimeout: 90_000,
          teardownTimeout: 30_000,
        },
      },
      "packages/*",
    ],
  },
});

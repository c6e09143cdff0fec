/** The chaos run's seeded randomness: the emulator's PRNG, so a run replays from its seed. */
export { createRng as rng } from "../src/emulator/rng.js";

export const between = (r: () => number, lo: number, hi: number) => lo + (hi - lo) * r();

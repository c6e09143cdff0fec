/** The chaos run's seeded randomness: the emulator's PRNG, so a run replays from its seed. */
export { createRng as rng } from "@burst/aci-emulator";

export const between = (r: () => number, lo: number, hi: number) => lo + (hi - lo) * r();

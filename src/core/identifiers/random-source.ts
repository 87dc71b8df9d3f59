/**
 * A source of uniform numbers in [0, 1), like Math.random. Synthetic data
 * generators take one so that datasets are reproducible from a seed.
 */
export type RandomSource = () => number;

/**
 * mulberry32: a small, fast 32-bit PRNG. Deterministic for a seed; NOT for
 * secrets (use node:crypto for those). Good enough to spread synthetic identifiers.
 */
export function createSeededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed or a source; a seed makes a fresh seeded source. */
export function randomSourceFrom(source: number | RandomSource | undefined): RandomSource {
  if (source === undefined) return Math.random;
  return typeof source === "number" ? createSeededRandom(source) : source;
}

/** An integer in [0, n). */
export function randomInt(random: RandomSource, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

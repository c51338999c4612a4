/**
 * mulberry32: a small seeded PRNG (same seed, same sequence) for load generation, fuzzing and chaos
 * runs, so a failing case can be replayed. Not for secrets. A pure leaf: importable without the rest of
 * platform/ (like errors.ts).
 */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

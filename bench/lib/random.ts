/** Deterministic pseudo-random numbers for benchmarks: the same seed gives the same data and samples. */

/** A PRNG (mulberry32) from `seed`: each call answers the next value in [0, 1). */
export function sampler(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

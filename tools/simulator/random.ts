/** Independent random sources, so REST chaos and stream faults do not shift each other's sequence. */
export interface Randoms {
  rest: () => number;
  stream: () => number;
}

// mulberry32: tiny, fast, and good enough to pick fault outcomes reproducibly.
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded: the same seed gives the same sequence per source. Unseeded: Math.random. */
export function createRandoms(seed: number | null): Randoms {
  if (seed === null) return { rest: Math.random, stream: Math.random };
  return {
    rest: mulberry32(Math.imul(seed, 0x9e3779b1) ^ 0x52455354),
    stream: mulberry32(Math.imul(seed, 0x9e3779b1) ^ 0x53545245),
  };
}

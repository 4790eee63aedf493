/**
 * `length` indexes in [0, range) from a fixed-seed generator (mulberry32), so
 * every variant and every run walks the same keys in the same order.
 */
export function randomIndexes(length: number, range: number, seed = 0x5eed): Uint32Array {
  const indexes = new Uint32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    indexes[i] = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * range);
  }
  return indexes;
}

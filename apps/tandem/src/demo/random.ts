/** A small seeded PRNG (mulberry32): the demo is the same every time it is made. */
export const seededRandom = (seed: number) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
    /** A value near `mean`, rounded to `decimals`. */
    near: (mean: number, spread: number, decimals = 0) => Number((mean + (next() * 2 - 1) * spread).toFixed(decimals)),
  };
};
export type Random = ReturnType<typeof seededRandom>;

/** NHS numbers in the 999 range (never issued to real people) that pass the modulus-11 check. */
export function* testNhsNumbers(random: Random): Generator<string> {
  for (;;) {
    const digits = `999${String(random.int(0, 999_999)).padStart(6, '0')}`;
    const sum = [...digits].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    yield `${digits}${check === 11 ? 0 : check}`;
  }
}

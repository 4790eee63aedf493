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

/** The subjects a rate-limit scenario checks, in one fixed order shared by every variant. */
export interface SubjectDistribution {
  /** Appended to the scenario name: `''` or `'-hot'`. */
  readonly suffix: string;
  /** For titles and descriptions, e.g. "10,000 random subjects". */
  readonly label: string;
  /** Subject of operation `i`, as given to redkit (which escapes it and wraps it in a hash tag itself). */
  subject(i: number): string;
  /**
   * The same subject inside a hash tag, for libraries that use it verbatim in
   * the key: their keys then land in the same cluster slot as redkit's.
   */
  tagged(i: number): string;
  /** Keys `<prefix>:{subject}` for a raw baseline, built once: returns the key of operation `i`. */
  keys(prefix: string): (i: number) => string;
}

/** Subjects and their keys, built once so the timed loop only indexes arrays. */
function distribution(suffix: string, label: string, names: string[], order: (i: number) => number) {
  const tagged = names.map((name) => `{${name}}`);
  return {
    suffix,
    label,
    subject: (i: number) => names[order(i)] as string,
    tagged: (i: number) => tagged[order(i)] as string,
    keys(prefix: string) {
      const keys = tagged.map((tag) => `${prefix}:${tag}`);
      return (i: number) => keys[order(i)] as string;
    },
  } satisfies SubjectDistribution;
}

const subjectCount = 10_000;
const sequence = randomIndexes(1 << 16, subjectCount);

/** Many clients: each check is for one of 10,000 subjects, in a fixed random order. */
export const randomSubjects: SubjectDistribution = distribution(
  '',
  '10,000 random subjects',
  Array.from({ length: subjectCount }, (_, i) => `s${i}`),
  (i) => sequence[i % sequence.length] as number,
);

/** One client hammering: every check is for the same subject (one key, one server thread). */
export const hotSubject: SubjectDistribution = distribution('-hot', '1 hot subject', ['hot'], () => 0);

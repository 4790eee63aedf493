/**
 * A cache entry as stored in Redis: one string, so a hit is a plain GET.
 *
 * `<version>|<flags>|<freshUntil>|<staleUntil>|<loadMs>|<tags>|<payload>`
 *
 * - version: the write's Redis server time in µs, or one more than the
 *   version it replaced (whichever is larger): it only ever grows per key,
 *   even across deletes and failovers.
 * - flags: `n` negative ("not found"), `d` deleted (a tombstone), `z` gzipped payload.
 * - freshUntil / staleUntil: ms since the epoch, Redis server clock.
 * - loadMs: how long the load that produced the value took (XFetch's δ).
 * - tags: `tag=version,…`, each tag's version when the load started.
 */
export interface Entry {
  readonly version: number;
  readonly negative: boolean;
  readonly deleted: boolean;
  readonly compressed: boolean;
  readonly freshUntil: number;
  readonly staleUntil: number;
  readonly loadMs: number;
  /** Tag → its version when the value was loaded; undefined when untagged. */
  readonly tags: ReadonlyMap<string, number> | undefined;
  readonly payload: string;
}

/** When the entry was written (server clock, ms): its version is the write's time in µs. */
export function writtenAt(entry: Entry): number {
  return Math.floor(entry.version / 1000);
}

/** Parses a stored entry; undefined when it is not one (a foreign value under the key). */
export function decodeEntry(blob: string | null | undefined): Entry | undefined {
  if (!blob) return undefined;
  const cuts: number[] = [];
  let from = 0;
  for (let field = 0; field < 6; field++) {
    const at = blob.indexOf('|', from);
    if (at < 0) return undefined;
    cuts.push(at);
    from = at + 1;
  }
  const [c0, c1, c2, c3, c4, c5] = cuts as [number, number, number, number, number, number];
  const version = Number(blob.slice(0, c0));
  const flags = blob.slice(c0 + 1, c1);
  const tagText = blob.slice(c4 + 1, c5);
  let tags: Map<string, number> | undefined;
  if (tagText !== '') {
    tags = new Map();
    for (const pair of tagText.split(',')) {
      const eq = pair.lastIndexOf('=');
      tags.set(pair.slice(0, eq), Number(pair.slice(eq + 1)));
    }
  }
  if (!Number.isFinite(version)) return undefined;
  return {
    version,
    negative: flags.includes('n'),
    deleted: flags.includes('d'),
    compressed: flags.includes('z'),
    freshUntil: Number(blob.slice(c1 + 1, c2)),
    staleUntil: Number(blob.slice(c2 + 1, c3)),
    loadMs: Number(blob.slice(c3 + 1, c4)),
    tags,
    payload: blob.slice(c5 + 1),
  };
}

/** The `tags` field of an entry. */
export function encodeTags(tags: ReadonlyMap<string, number> | undefined): string {
  if (!tags || tags.size === 0) return '';
  let text = '';
  for (const [tag, version] of tags) text += `${text === '' ? '' : ','}${tag}=${version}`;
  return text;
}

/** The version at the head of a stored entry (0 when it is not an entry). */
export function versionOf(blob: string): number {
  const bar = blob.indexOf('|');
  const version = bar > 0 ? Number(blob.slice(0, bar)) : 0;
  return Number.isFinite(version) ? version : 0;
}

/** The parts of an entry that a write chooses (see {@link Entry}). */
export interface EntryFields {
  readonly version: number | string;
  /** `n` negative, `d` deleted, `z` gzipped, in any combination. */
  readonly flags: string;
  readonly freshUntil: number;
  readonly staleUntil: number;
  readonly loadMs: number;
  /** The tags field, as {@link encodeTags} writes it. */
  readonly tags: string;
  readonly payload: string;
}

/** An entry as stored. The Lua side builds the same string in entry-format.lua. */
export function encodeEntry(fields: EntryFields): string {
  const { version, flags, freshUntil, staleUntil, loadMs, tags, payload } = fields;
  return `${version}|${flags}|${freshUntil}|${staleUntil}|${loadMs}|${tags}|${payload}`;
}

/** The tombstone a delete leaves, newer than any load in flight. */
export function tombstone(version: number | string): string {
  return encodeEntry({ version, flags: 'd', freshUntil: 0, staleUntil: 0, loadMs: 0, tags: '', payload: '' });
}

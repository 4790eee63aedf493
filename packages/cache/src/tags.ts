import type { CacheContext } from './cache-context.js';
import { bumpTag } from './scripts.js';

/**
 * Tag versions: an entry records each of its tags' versions when its load
 * started, and stays valid while none of them has grown since. A tag's
 * version only grows (`bump-tag`), and lives `tagTtl`.
 */
export class Tags {
  private readonly context: CacheContext;

  constructor(context: CacheContext) {
    this.context = context;
  }

  /** Each tag's current version (0 when never invalidated), one GET per tag, concurrently. */
  async versions(tags: readonly string[] | undefined): Promise<Map<string, number> | undefined> {
    if (!tags || tags.length === 0) return undefined;
    const { driver, keys, call } = this.context;
    const versions = await this.context.redis(() =>
      Promise.all(tags.map((tag) => driver.command<string | null>('GET', [keys.tag(tag)], call))),
    );
    return new Map(tags.map((tag, index) => [tag, Number(versions[index] ?? 0)]));
  }

  /** An entry is valid while none of its tags was invalidated after its load started. */
  async stillValid(tags: ReadonlyMap<string, number>): Promise<boolean> {
    const current = await this.versions([...tags.keys()]);
    for (const [tag, version] of tags) if ((current?.get(tag) ?? 0) > version) return false;
    return true;
  }

  /** Invalidates every entry stored with any of `tags`, in every process. */
  async invalidate(tags: readonly string[]): Promise<void> {
    const { driver, keys, call, options, bus, memory } = this.context;
    await Promise.all(
      tags.map(async (tag) => {
        const version = await this.context.redis(() =>
          driver.script(
            bumpTag,
            [keys.tag(tag)],
            [options.tagTtl, keys.channel, tag, bus.shardChannelFor(keys.tag(tag))],
            call,
          ),
        );
        memory?.invalidateTag(tag, Number(version));
      }),
    );
  }
}

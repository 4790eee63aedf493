// A stream worker: producers add jobs to a Redis stream; a consumer group
// processes them, retrying failures with backoff and dead-lettering the hopeless.
import { connect } from '@redkit/core';
import { StreamQueue } from '@redkit/queue';
import { z } from 'zod';

const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const queue = new StreamQueue({
  redis,
  namespace: 'example-stream-worker',
  stream: 'thumbnails',
  schema: z.object({ image: z.string() }),
});

for (const image of ['a.png', 'b.png', 'c.png']) await queue.add({ image });

const done: string[] = [];
let finished: () => void = () => {};
const allDone = new Promise<void>((resolve) => {
  finished = resolve;
});
const worker = queue.consume(
  async (job, { attempt }) => {
    if (job.image === 'b.png' && attempt === 1) throw new Error('storage hiccup'); // retried after ~50 ms
    done.push(`${job.image} (attempt ${attempt})`);
    if (done.length === 3) finished();
  },
  { group: 'resizers', concurrency: 2, backoff: { initial: '50ms' }, promoteInterval: '50ms' },
);

await allDone;
console.log(`processed: ${done.join(', ')}`);
await worker.stop({ deadlineMs: 2_000 });
const stats = await queue.stats();
console.log(`pending ${stats.groups.reduce((sum, group) => sum + group.pending, 0)}, dead letters ${stats.dead}`);

await queue.trim({ maxLen: 0 }); // acknowledged entries stay until trimmed
await redis.quit();

// A sharded counter: one very hot counter (page views) spread over several keys,
// which on a Redis Cluster live on different masters; reads sum the shards.
import { connect } from '@redkit/core';
import { ShardedCounter } from '@redkit/hotkeys';

const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const views = new ShardedCounter({ redis, name: 'example-views:home', shards: 8 });
await views.reset(); // start at 0, so the example can run twice

await Promise.all(Array.from({ length: 100 }, () => views.increment()));
await views.increment(5);
console.log(`views: ${await views.value()} over ${views.keys.length} keys`);

await views.reset();
await redis.quit();

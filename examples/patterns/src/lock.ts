// A distributed lock: five workers want the same job; the lock lets one in at a
// time, and each holder gets a larger fencing token to send with its writes.
import { connect } from '@redkit/core';
import { Mutex } from '@redkit/lock';

const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const mutex = new Mutex({ redis, namespace: 'example-lock', ttl: '5s', wait: '5s' });

let inside = 0;
let mostInside = 0;
const tokens: bigint[] = [];
await Promise.all(
  Array.from({ length: 5 }, (_, worker) =>
    mutex.withLock('report:daily', async (signal, lock) => {
      inside++;
      mostInside = Math.max(mostInside, inside);
      tokens.push(lock.fencingToken);
      await new Promise((resolve) => setTimeout(resolve, 20)); // the work; stop if `signal` aborts
      inside--;
      return { worker, aborted: signal.aborted };
    }),
  ),
);
console.log(`5 workers ran, at most ${mostInside} at a time`);
console.log(`fencing tokens increase: ${tokens.every((token, i) => i === 0 || token > (tokens[i - 1] as bigint))}`);

const held = await mutex.acquire('invoice:42');
console.log(`while held, tryAcquire gives ${await mutex.tryAcquire('invoice:42')}`);
console.log(`release: ${await held.release()}`);

await mutex.close();
await redis.quit();

import type { RedisConnection } from '@redkit/core';
import { Leaderboard } from '@redkit/leaderboard';
import { randomIndexes } from './subjects.js';

/**
 * Members on each board. 1,000,000 as the issue asks: populating both boards
 * (redkit's and the naive one) takes a few seconds with pipelined ZADD
 * batches, so every scenario stays well under two minutes on this machine.
 */
export const boardSize = 1_000_000;
const scoreRange = 1_000_000;

/** Member `p<i>` of the board. */
export const memberOf = (index: number): string => `p${index}`;

/** The members operations pick, in one fixed random order shared by every variant. */
export const sequence = randomIndexes(1 << 16, boardSize, 0x1ead);
/** Points added by submit number `i` (1 … 100). */
export const points = randomIndexes(1 << 16, 100, 0xb0a2d);

/** redkit's board: `bench-lb:{arena}:all`. */
export function redkitBoard(redis: RedisConnection): Leaderboard {
  return new Leaderboard({ redis, namespace: 'bench-lb', name: 'arena', policy: 'increment', maxCombinedPeriods: 1 });
}

/** The naive board, a plain sorted set in the same hash slot as redkit's (same cluster master). */
export const naiveKey = 'bench-naive:{arena}:board';

const populated = new WeakMap<RedisConnection, Promise<void>>();

/**
 * Fills both boards once per connection (every leaderboard scenario shares
 * them): the same members with the same random scores, in ZADD batches of
 * 1,000 members, 50 commands per pipeline. redkit's board gets composite
 * scores (`score × 2^(53 − scoreBits) + tie`, ties in member order, as if the
 * members had arrived in that order), written directly rather than through
 * 1,000,000 submits.
 */
export function populateBoards(redis: RedisConnection): Promise<void> {
  let done = populated.get(redis);
  if (!done) {
    done = populate(redis);
    populated.set(redis, done);
  }
  return done;
}

async function populate(redis: RedisConnection): Promise<void> {
  const board = redkitBoard(redis);
  const redkitKey = 'bench-lb:{arena}:all';
  const { scoreBits, tiesPerScore } = board.precision;
  const slot = 2 ** (53 - scoreBits);
  await redis.del(redkitKey, naiveKey, 'bench-lb:{arena}:enc');
  const scores = randomIndexes(boardSize, scoreRange, 0x5c0e);
  const tiesUsed = new Uint32Array(scoreRange);
  const batch = 1_000;
  let pipeline = redis.pipeline();
  let queued = 0;
  for (let first = 0; first < boardSize; first += batch) {
    const composite: (string | number)[] = [];
    const plain: (string | number)[] = [];
    for (let index = first; index < Math.min(first + batch, boardSize); index++) {
      const score = scores[index] as number;
      const tie = tiesPerScore - 1 - (tiesUsed[score] as number);
      tiesUsed[score] = (tiesUsed[score] as number) + 1;
      composite.push(score * slot + tie, memberOf(index));
      plain.push(score, memberOf(index));
    }
    pipeline.zadd(redkitKey, ...composite);
    pipeline.zadd(naiveKey, ...plain);
    queued += 2;
    if (queued >= 50) {
      await pipeline.exec();
      pipeline = redis.pipeline();
      queued = 0;
    }
  }
  if (queued > 0) await pipeline.exec();
  const [redkitCount, naiveCount] = [await redis.zcard(redkitKey), await redis.zcard(naiveKey)];
  if (redkitCount !== boardSize || naiveCount !== boardSize) {
    throw new Error(`populated ${redkitCount} and ${naiveCount} members, expected ${boardSize}`);
  }
  // A submit through the package checks the boards' encoding before anything else.
  const check = await board.submit(memberOf(0), 0);
  if (check.score !== scores[0]) throw new Error(`redkit read ${check.score} for p0, expected ${scores[0]}`);
}

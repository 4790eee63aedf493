import type { Scenario, Target, Variant } from '../scenario.js';
import { boardSize, memberOf, naiveKey, points, populateBoards, redkitBoard, sequence } from './leaderboard-board.js';

const memberAt = (i: number) => memberOf(sequence[i % sequence.length] as number);
const pointsAt = (i: number) => 1 + (points[i % points.length] as number);

function variants({ redis }: Target): Variant[] {
  const board = redkitBoard(redis);
  return [
    {
      name: 'ioredis-naive',
      setup: () => populateBoards(redis),
      // The new score, then the new rank: two round trips, and another submit may land in between.
      run: async (i) => {
        const member = memberAt(i);
        const score = await redis.zincrby(naiveKey, pointsAt(i), member);
        const rank = await redis.zrevrank(naiveKey, member);
        return [score, rank];
      },
    },
    {
      name: 'ioredis-pipeline',
      setup: () => populateBoards(redis),
      run: (i) => {
        const member = memberAt(i);
        return redis.pipeline().zincrby(naiveKey, pointsAt(i), member).zrevrank(naiveKey, member).exec();
      },
    },
    {
      name: 'redkit',
      setup: async () => {
        await populateBoards(redis);
        const result = await board.submit(memberAt(0), 1);
        if (result.rank < 1 || result.changed !== true) throw new Error(`redkit: unexpected ${JSON.stringify(result)}`);
      },
      run: (i) => board.submit(memberAt(i), pointsAt(i)),
    },
  ];
}

/** Submit throughput: an increment that returns the new score and rank, on a large board. */
export const leaderboardSubmit: Scenario = {
  name: 'leaderboard-submit',
  title: `leaderboard submit (increment, new score + rank), ${boardSize.toLocaleString('en-US')} members`,
  description:
    `Each operation adds 1 … 100 points to one of the ${boardSize.toLocaleString('en-US')} members of a board ` +
    '(random members in a fixed order) and gets back the new score and rank. `redkit`: `Leaderboard.submit(member, ' +
    "points)` with `policy: 'increment'` on its all-time board: one script that checks the boards' encoding " +
    'marker (`GET`), reads the old score, finds the tie position at the new score (arrival order among equal ' +
    'scores: one `ZRANGE … BYSCORE LIMIT 0 1`), writes the composite score and returns score and rank, ' +
    'atomically. `ioredis-naive` is what an application writes by hand: `ZINCRBY`, then ' +
    '`ZREVRANK` (two round trips, not atomic, ties ordered by member name). `ioredis-pipeline` sends the same two ' +
    'commands in one pipeline (one round trip, still not atomic): the practical limit without tie-breaking. Both ' +
    'boards are populated in setup with pipelined `ZADD` batches of 1,000 members (redkit’s with composite scores) ' +
    'and share one hash slot, so on the cluster every variant talks to the same master.',
  baseline: 'ioredis-naive',
  variants,
};

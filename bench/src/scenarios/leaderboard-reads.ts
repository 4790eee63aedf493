import type { Scenario, Target, Variant } from '../scenario.js';
import { boardSize, memberOf, naiveKey, populateBoards, redkitBoard, sequence } from './leaderboard-board.js';

const memberAt = (i: number) => memberOf(sequence[i % sequence.length] as number);
const size = boardSize.toLocaleString('en-US');

const boards =
  `The boards hold ${size} members with random scores (many ties), populated in setup with pipelined \`ZADD\` ` +
  'batches of 1,000 members (redkit’s with composite scores) and sharing one hash slot, so on the cluster every ' +
  'variant talks to the same master. No metadata schema: redkit reads only the board.';

function topVariants({ redis }: Target): Variant[] {
  const board = redkitBoard(redis);
  return [
    {
      name: 'ioredis-naive',
      async setup() {
        await populateBoards(redis);
        const reply = await redis.zrevrange(naiveKey, 0, 9, 'WITHSCORES');
        if (reply.length !== 20) throw new Error(`ioredis-naive: expected 10 entries, got ${reply.length / 2}`);
      },
      run: () => redis.zrevrange(naiveKey, 0, 9, 'WITHSCORES'),
    },
    {
      name: 'redkit',
      async setup() {
        await populateBoards(redis);
        const top = await board.top(10);
        if (top.length !== 10 || top[0]?.rank !== 1) throw new Error(`redkit: unexpected top ${JSON.stringify(top)}`);
      },
      run: () => board.top(10),
    },
  ];
}

/** The ten best: the most frequent leaderboard read. */
export const leaderboardTop: Scenario = {
  name: 'leaderboard-top',
  title: `leaderboard top(10), ${size} members`,
  description:
    'Each operation reads the ten best members with their scores. `redkit`: `Leaderboard.top(10)`, which without ' +
    'metadata is one plain `ZRANGE … REV WITHSCORES` (no script: ranks follow from positions), scores decoded ' +
    'from the composite and entries built with their ranks. `ioredis-naive`: ' +
    `\`ZREVRANGE key 0 9 WITHSCORES\`, one command (the practical limit). ${boards}`,
  baseline: 'ioredis-naive',
  variants: topVariants,
};

function aroundVariants({ redis }: Target): Variant[] {
  const board = redkitBoard(redis);
  const radius = 5;
  return [
    {
      name: 'ioredis-naive',
      setup: () => populateBoards(redis),
      // The member's rank, then the window around it: two round trips, the board may change in between.
      run: async (i) => {
        const rank = await redis.zrevrank(naiveKey, memberAt(i));
        if (rank === null) throw new Error(`${memberAt(i)} is not on the board`);
        const start = Math.max(0, rank - radius);
        return redis.zrevrange(naiveKey, start, start + 2 * radius, 'WITHSCORES');
      },
    },
    {
      name: 'redkit',
      async setup() {
        await populateBoards(redis);
        const window = await board.around(memberAt(0), radius);
        if (window?.length !== 2 * radius + 1) throw new Error(`redkit: unexpected window ${JSON.stringify(window)}`);
      },
      run: (i) => board.around(memberAt(i), radius),
    },
  ];
}

/** "Me and the players around me": the read a naive client needs two round trips for. */
export const leaderboardAround: Scenario = {
  name: 'leaderboard-around',
  title: `leaderboard around(member, 5), ${size} members`,
  description:
    'Each operation reads a member and the 5 members on each side of it (11 entries with scores), for random ' +
    'members in a fixed order. `redkit`: `Leaderboard.around(member, 5)`, one script (`ZREVRANK`, `ZCARD`, ' +
    '`ZRANGE … REV WITHSCORES`). `ioredis-naive`: `ZREVRANK`, then `ZREVRANGE … WITHSCORES` over the window, two ' +
    `round trips. ${boards}`,
  baseline: 'ioredis-naive',
  variants: aroundVariants,
};

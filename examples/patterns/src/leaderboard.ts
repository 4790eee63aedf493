// A leaderboard: submit scores, read the top, and a player's neighbourhood.
import { connect } from '@redkit/core';
import { Leaderboard } from '@redkit/leaderboard';

const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const board = new Leaderboard({ redis, name: 'example-arena' });
await board.reset(); // start empty, so the example can run twice

await board.submit('ana', 1200);
await board.submit('ben', 950);
await board.submit('cho', 1200); // ties rank in arrival order: ana first
await board.submit('dee', 700);
const better = await board.submit('dee', 1000); // the default policy keeps the best score
console.log(`dee: score ${better.score}, rank ${better.rank}`);

const top = await board.top(3);
console.log(`top 3: ${top.map((entry) => `${entry.rank}. ${entry.member} ${entry.score}`).join(', ')}`);
const around = await board.around('ben', 1);
console.log(`around ben: ${around?.map((entry) => entry.member).join(', ')}`);

await board.reset();
await redis.quit();

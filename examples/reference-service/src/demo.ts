/**
 * `npm run demo`: the reference service on embedded defaults (a private
 * redis-server unless REDIS_URL is set, in-memory PGlite unless
 * DATABASE_URL is set), with background traffic, until Ctrl-C.
 */
import { startService } from './server.js';
import { startTraffic } from './traffic.js';

const port = Number(process.env.PORT ?? 3000);
const service = await startService({
  redisUrl: process.env.REDIS_URL,
  databaseUrl: process.env.DATABASE_URL,
  port,
  host: process.env.HOST ?? '127.0.0.1',
});
const traffic = startTraffic(service.url);

const redisNote = service.embeddedRedis ? 'a redis-server started for the demo' : 'REDIS_URL';
console.log(`Redis:     ${service.redisUrl} (${redisNote})`);
console.log(`Database:  ${service.services.db.kind}${process.env.DATABASE_URL ? ' (DATABASE_URL)' : ' (in memory)'}`);
console.log('Traffic:   7 simulated users (login demo users: ana … gus, admin; password "password")');
console.log(`Dashboard: ${service.url}/dashboard`);
console.log('Press Ctrl-C to stop.');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping traffic, workers, HTTP, Redis …`);
  // A second Ctrl-C while shutting down is ignored; the reaper still kills redis-server if we are killed.
  const watchdog = setTimeout(() => {
    console.error('shutdown took over 10 s; exiting');
    process.exit(1);
  }, 10_000);
  watchdog.unref();
  await traffic.stop();
  await service.close();
  console.log('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGHUP', () => void stop('SIGHUP'));
// The npm scripts `exec` this process, so npm's forwarding of SIGINT/SIGTERM
// reaches it (a `sh -c` in between would swallow the signal). Should whatever
// started it die without passing a signal on (npm killed outright, a closed
// terminal), it is re-parented: stop then too, rather than serve on as an
// orphan holding the port and its redis-server.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop('parent exited');
}, 250).unref();

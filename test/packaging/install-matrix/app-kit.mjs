// What every matrix app shares: where its Redis is, how it serves and asks,
// and how it reports. Copied next to the app into each throwaway project.
import { readFileSync } from 'node:fs';
import { connect } from '@redkit/core';

/** The private Redis of this test run, and a namespace of this cell's own. */
export const redisUrl = process.env.REDIS_URL;
export const namespace = process.env.NAMESPACE;

/** A client on the test's Redis. */
export const redis = connect(redisUrl);

/** The version of `name` this project installed (read from disk: not every package exports its package.json). */
export function versionOf(name) {
  return JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
}

/** Listens on a free loopback port with Node's http server of an Express app. */
export function listenExpress(app) {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (error) => {
      if (error) reject(error);
      else resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => closeServer(server) });
    });
  });
}

function closeServer(server) {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
}

/** One real HTTP request; the body parsed as JSON when it is JSON. */
export async function request(url, init = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    cookies: response.headers.getSetCookie().map((cookie) => cookie.split(';')[0]),
    body,
  };
}

/** Prints the result as one JSON line and ends the process. */
export function report(result) {
  redis.disconnect();
  console.log(JSON.stringify(result));
  process.exit(0);
}

/** A failure ends the process with the error on stderr, so the test shows it. */
process.on('unhandledRejection', (error) => {
  console.error(error);
  process.exit(1);
});

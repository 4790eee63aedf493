import { createServer } from 'node:net';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Ports handed out by this process, so parallel starts never pick the same one. */
const handedOut = new Set<number>();

/**
 * Finds a free loopback port. With `busPort`, port + 10000 (a cluster node's
 * bus port) must be free too. The port is only probed, so the caller retries
 * with another one if the server then fails to bind.
 */
export async function freePort(options: { busPort?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Below the ephemeral range (32768+) so outgoing connections do not take
    // it, and low enough that port + 10000 is valid.
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port) || (options.busPort && handedOut.has(port + 10_000))) continue;
    if (!(await canListen(port))) continue;
    if (options.busPort && !(await canListen(port + 10_000))) continue;
    handedOut.add(port);
    if (options.busPort) handedOut.add(port + 10_000);
    return port;
  }
  throw new Error('no free loopback port found after 200 attempts');
}

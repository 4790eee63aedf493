import type { Writable } from 'node:stream';
import type { Cluster, Redis } from 'ioredis';

/** How many commands a tick sends before its held writes go out. */
const commandsPerWrite = 16;

/**
 * Sends the commands that one tick of the event loop issues on a client
 * together, one socket write per connection for every 16 commands, much as
 * node-redis does by default.
 *
 * ioredis writes every command to its socket as it is called: under load
 * that is one system call per command on each side, which costs Node and
 * Redis more CPU than the commands themselves. Corking the sockets on a
 * tick's first command and uncorking them later in the tick lets Node hand
 * many to the kernel in one writev, and Redis read them in one read.
 * Measured with 64 callers on one server: a script call ran 1.9× the ops/s
 * of a raw ioredis loop at half its Node CPU (docs/benchmarks.md,
 * core-script).
 *
 * A command waits at most until the current synchronous code and its
 * promise reactions have run: no timer, no reordering (one socket keeps its
 * order), and nothing is held across I/O.
 *
 * A tick's writes go out every {@link commandsPerWrite} commands per socket
 * rather than all at its end: with every caller's next command in one write, Node and
 * Redis would take turns (Redis idle while Node prepares the batch, then
 * Node idle while Redis answers it), where smaller writes let them work at
 * once. In the fixed-window rate-limit benchmark (64 callers, one server),
 * one write per tick ran at 0.59× of raw EVALSHA, writes of 16 at 1.02–1.06×;
 * 16 gave the most ops/s of 4, 8, 16 and 64 in a loop of a two-command script.
 */
export class WriteBatching {
  private readonly client: Redis | Cluster;
  private readonly cluster: boolean;
  /** The sockets corked this tick. */
  private held: Writable[] = [];
  /** Per held socket: its buffered bytes when last looked at. */
  private lengths: number[] = [];
  /** Per held socket: commands buffered since its writes last went out. */
  private counts: number[] = [];
  /** Whether this tick's release is scheduled. */
  private holding = false;

  constructor(client: Redis | Cluster, cluster: boolean) {
    this.client = client;
    this.cluster = cluster;
  }

  /** Holds this tick's writes on the client's sockets; call before sending a command. */
  hold(): void {
    if (this.holding) {
      this.flushFull();
      return;
    }
    if (this.client.status !== 'ready') return;
    this.holding = true;
    process.nextTick(this.release);
    if (this.cluster) {
      // The command's node is only known inside ioredis: hold every node that
      // may get one (the masters, and the replicas too when reads go there).
      const cluster = this.client as Cluster;
      const nodes = cluster.options.scaleReads === 'master' ? cluster.nodes('master') : cluster.nodes('all');
      for (const node of nodes) this.corkOf(node);
    } else {
      this.corkOf(this.client as Redis);
    }
  }

  private corkOf(node: Redis): void {
    const stream = (node as { stream?: Writable }).stream;
    if (node.status !== 'ready' || !stream || stream.writableCorked > 0 || !stream.writable) return;
    stream.cork();
    this.held.push(stream);
    this.lengths.push(stream.writableLength);
    this.counts.push(0);
  }

  /**
   * Writes out each socket that holds {@link commandsPerWrite} commands. A
   * socket's buffer grows with every command sent to it, so comparing its
   * length with the last one seen counts the commands per socket (on a
   * cluster, per node), one command late: this runs before the next one.
   */
  private flushFull(): void {
    const { held, lengths, counts } = this;
    for (let index = 0; index < held.length; index++) {
      const stream = held[index] as Writable;
      const length = stream.writableLength;
      if (length === lengths[index]) continue;
      if ((counts[index] as number) + 1 < commandsPerWrite) {
        counts[index] = (counts[index] as number) + 1;
        lengths[index] = length;
        continue;
      }
      stream.uncork();
      stream.cork();
      counts[index] = 0;
      lengths[index] = stream.writableLength;
    }
  }

  /** Writes what the tick queued: one writev per socket. */
  private readonly release = (): void => {
    const streams = this.held;
    this.held = [];
    this.lengths = [];
    this.counts = [];
    this.holding = false;
    for (const stream of streams) stream.uncork();
  };
}

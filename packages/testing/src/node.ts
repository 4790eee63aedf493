/**
 * One Redis server of a harness, with the faults a test may inject. Every
 * method resolves once the fault is in effect.
 */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
  /** `host:port`. */
  readonly address: string;
  /** Whether the server process runs (paused counts as running). */
  readonly running: boolean;
  readonly paused: boolean;
  /** Kills the server at once (SIGKILL): no shutdown, no save. */
  kill(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing answers. */
  pause(): Promise<void>;
  /** Unfreezes a paused server (SIGCONT). */
  resume(): Promise<void>;
  /** Starts the server again on the same port and directory (killing it first if it runs). */
  restart(): Promise<void>;
  /** Kills the server and removes its files. */
  stop(): Promise<void>;
}

/** How a backend starts a server. */
export interface NodeSpec {
  /** Extra `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args: string[];
  /** Needs port + 10000 free too (cluster bus). */
  cluster: boolean;
  /** Serve TLS only, with a self-signed certificate for 127.0.0.1 (binary backend). */
  tls?: boolean;
  /**
   * Run as a sentinel (`redis-server <config> --sentinel`) with these config
   * lines (`sentinel monitor …`); `args` are ignored. The file is written at
   * the first start only: a sentinel rewrites it with what it learned, and a
   * restarted sentinel starts from that, as a real one would (binary backend).
   */
  sentinel?: readonly string[];
}

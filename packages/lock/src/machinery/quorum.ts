/**
 * Shared lock machinery: one operation sent to every instance of a Redlock
 * quorum, decided as soon as a majority answers (or can no longer).
 */
import { type CallOptions, type RedisDriver, RedisUnavailableError } from '@redkit/core';
import { QuorumUnavailableError } from '../errors.js';

/** One independent Redis master of a Redlock quorum. */
export interface QuorumInstance {
  readonly driver: RedisDriver;
  /** `host:port` (or socket path), for messages and events. */
  readonly address: string;
}

/** One instance's answer to one operation. */
export type Vote<Reply> =
  | { readonly instance: QuorumInstance; readonly ok: true; readonly reply: Reply }
  | { readonly instance: QuorumInstance; readonly ok: false; readonly error: unknown };

/** The answers of one round, as far as they were in when its outcome was decided. */
export interface Round<Reply> {
  readonly votes: readonly Vote<Reply>[];
  /** Instances that had not answered yet when the outcome was decided. */
  readonly pending: readonly QuorumInstance[];
  /** Every vote, once each instance has answered or its call has timed out. Never rejects. */
  readonly all: Promise<readonly Vote<Reply>[]>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * N independent Redis masters, of which `floor(N / 2) + 1` must agree.
 * Sends each operation to all of them at once and settles as soon as the
 * outcome is decided. Every call has a deadline (the driver's), so a round
 * always ends: a frozen or unreachable instance costs at most one timeout,
 * and an even split settles once every vote is in.
 */
export class Quorum {
  readonly instances: readonly QuorumInstance[];
  /** N. */
  readonly size: number;
  /** `floor(N / 2) + 1`. */
  readonly required: number;

  constructor(instances: readonly QuorumInstance[]) {
    this.instances = instances;
    this.size = instances.length;
    this.required = Math.floor(instances.length / 2) + 1;
  }

  /** Per-call options bounding a call to `timeoutMs`: none when that is the client's own command timeout. */
  static call(instance: QuorumInstance, timeoutMs: number): CallOptions | undefined {
    return timeoutMs === instance.driver.timeoutMs ? undefined : { timeoutMs };
  }

  /**
   * Sends `send` to every instance at once. Resolves when `decided` says the
   * votes received so far settle the outcome, or once every instance has
   * answered (or timed out).
   */
  round<Reply>(
    send: (instance: QuorumInstance) => Promise<Reply>,
    decided: (votes: readonly Vote<Reply>[]) => boolean,
  ): Promise<Round<Reply>> {
    return new Promise((resolve) => {
      const votes: Vote<Reply>[] = [];
      let finished = false;
      let allIn: (votes: readonly Vote<Reply>[]) => void = () => {};
      const all = new Promise<readonly Vote<Reply>[]>((done) => {
        allIn = done;
      });
      const record = (vote: Vote<Reply>) => {
        votes.push(vote);
        const complete = votes.length === this.size;
        if (complete) allIn(votes);
        if (finished || !(complete || decided(votes))) return;
        finished = true;
        const answered = new Set(votes.map((entry) => entry.instance));
        resolve({
          votes: [...votes],
          pending: this.instances.filter((instance) => !answered.has(instance)),
          all,
        });
      };
      for (const instance of this.instances) {
        let call: Promise<Reply>;
        try {
          call = send(instance);
        } catch (error) {
          call = Promise.reject(error);
        }
        call.then(
          (reply) => record({ instance, ok: true, reply }),
          (error: unknown) => record({ instance, ok: false, error }),
        );
      }
    });
  }

  /**
   * The error of an operation that could not reach a quorum because too few
   * instances answered: a reply error of an instance (a misconfiguration such
   * as a missing ACL permission) as it is, otherwise a {@link QuorumUnavailableError}.
   */
  failure(operation: 'acquire' | 'extend' | 'release', round: Round<unknown>): Error {
    const failed: { address: string; error: unknown }[] = [];
    let timedOut = round.pending.length > 0;
    for (const vote of round.votes) {
      if (vote.ok) continue;
      if (!(vote.error instanceof RedisUnavailableError)) {
        return vote.error instanceof Error ? vote.error : new Error(messageOf(vote.error));
      }
      if (vote.error.timedOut) timedOut = true;
      failed.push({ address: vote.instance.address, error: vote.error });
    }
    const pending = round.pending.map((instance) => instance.address);
    return new QuorumUnavailableError(operation, failed, pending, this.size, this.required, timedOut);
  }
}

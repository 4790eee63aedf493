/**
 * The dead-letter stream of a queue as users see it: the `DeadLetter` record
 * decoded from its entry fields, and the `deadLetters` API (list, get,
 * count, replay, purge) that `StreamQueue` exposes.
 */
import type { CallOptions, RedisArg, RedisDriver } from '@redkit/core';
import { InvalidOptionsError, parseOptions } from '@redkit/core';
import type { decodeMessage } from '../message-codec.js';
import { type ListDeadOptions, listDeadOptionsSchema } from '../options.js';
import { fieldMap } from './entry-fields.js';
import type { QueueKeys } from './queue-keys.js';
import { purgeDead, type RawFields, replayDead } from './scripts.js';

/** A message in the dead-letter stream. */
export interface DeadLetter<Message> {
  /** Its id in the dead-letter stream (pass it to `replay`). */
  readonly id: string;
  /** The message, or `undefined` when it no longer decodes or fails the schema (see `invalid`). */
  readonly message: Message | undefined;
  /** The stored JSON of the message. */
  readonly data: string;
  /** Why it was dead-lettered: `max-deliveries` or `invalid`. */
  readonly reason: string;
  /** The last attempt's error. */
  readonly error: string;
  /** Attempts made. */
  readonly attempts: number;
  /** The consumer group it failed in. */
  readonly group: string;
  /** Id of the message's first entry in the stream. */
  readonly originalId: string;
  /** When it was dead-lettered (ms since the epoch, Redis clock). */
  readonly deadAt: number;
  /** Why `message` is undefined, when it is. */
  readonly invalid?: string;
}

/** The dead letters of a stream: list, replay, purge. */
export interface DeadLetters<Message> {
  /** Dead letters, oldest first. */
  list(options?: ListDeadOptions): Promise<DeadLetter<Message>[]>;
  /** One dead letter by its id, or null. */
  get(id: string): Promise<DeadLetter<Message> | null>;
  /** How many dead letters there are. */
  count(): Promise<number>;
  /**
   * Puts a dead letter back on the stream for the group it failed in, with a
   * fresh attempt count, and removes it from the dead letters (atomically).
   * @returns the new stream entry id, or null when there is no such dead letter.
   */
  replay(id: string): Promise<string | null>;
  /** Deletes every dead letter; returns how many there were. */
  purge(): Promise<number>;
}

/** What the dead letters need of their queue (the `@internal` members of `StreamQueue`). */
interface DeadLetterSource {
  readonly keys: QueueKeys;
  readonly driver: RedisDriver;
  readonly call: CallOptions | undefined;
  decode(data: string | undefined): ReturnType<typeof decodeMessage>;
}

/** Throws naming `id` unless it is a stream entry id. */
function checkEntryId(id: unknown, context: string): void {
  if (typeof id !== 'string' || !/^\d+-\d+$/.test(id)) {
    throw new InvalidOptionsError([{ path: 'id', message: 'must be a stream entry id such as "1700000000000-0"' }], {
      context,
    });
  }
}

function deadLetter<Message>(queue: DeadLetterSource, id: string, raw: RawFields): DeadLetter<Message> {
  const fields = fieldMap(raw);
  const data = fields.get('d') ?? '';
  const decoded = queue.decode(data);
  return {
    id,
    message: decoded.ok ? (decoded.message as Message) : undefined,
    data,
    reason: fields.get('r') ?? '',
    error: fields.get('e') ?? '',
    attempts: Number(fields.get('n') ?? 0),
    group: fields.get('g') ?? '',
    originalId: fields.get('o') ?? '',
    deadAt: Number(fields.get('t') ?? 0),
    ...(decoded.ok ? {} : { invalid: decoded.error }),
  };
}

/** The `deadLetters` of a queue. */
export function createDeadLetters<Message>(queue: DeadLetterSource): DeadLetters<Message> {
  const context = 'StreamQueue.deadLetters';
  return {
    list: async (options) => {
      const { count, after } = parseOptions(listDeadOptionsSchema, options ?? {}, `${context}.list()`);
      const start: RedisArg = after === undefined ? '-' : `(${after}`;
      const entries = await queue.driver.command<[string, RawFields][]>(
        'XRANGE',
        [queue.keys.dead, start, '+', 'COUNT', count],
        queue.call,
      );
      return entries.map(([id, raw]) => deadLetter<Message>(queue, id, raw));
    },
    get: async (id) => {
      checkEntryId(id, `${context}.get()`);
      const [entry] = await queue.driver.command<[string, RawFields][]>(
        'XRANGE',
        [queue.keys.dead, id, id],
        queue.call,
      );
      return entry ? deadLetter<Message>(queue, entry[0], entry[1]) : null;
    },
    count: () => queue.driver.command<number>('XLEN', [queue.keys.dead], queue.call),
    replay: async (id) => {
      checkEntryId(id, `${context}.replay()`);
      const reply = await queue.driver.script(replayDead, [queue.keys.stream, queue.keys.dead], [id], queue.call);
      return typeof reply === 'string' ? reply : null;
    },
    purge: () => queue.driver.script(purgeDead, [queue.keys.dead], [], queue.call),
  };
}

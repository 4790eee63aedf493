import { textSchema } from './text.js';

/**
 * Names of streams, consumer groups, consumers and channels: 1 to 200
 * printable characters, no newlines or NUL (they would break replies and
 * logs). Shared, so a name one package accepts (a cache's write-behind
 * stream) is one the queue that serves it accepts too.
 *
 * @example
 * ```ts
 * const optionsSchema = z.object({ stream: streamNameSchema })
 * ```
 */
export const streamNameSchema = textSchema(200).regex(/^[^\r\n\0]+$/, 'must not contain newlines or NUL');

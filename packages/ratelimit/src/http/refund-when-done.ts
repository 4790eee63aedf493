/** The part of Node's `ServerResponse` that tells how a response ended. */
export interface FinishingResponse {
  once(event: 'finish' | 'close' | 'error', listener: () => void): unknown;
  readonly statusCode: number;
  readonly writableEnded?: boolean;
}

/** Which admitted requests are given back once their response is over. */
export interface RefundRules<Req, Res> {
  /** Give back requests that succeeded. */
  readonly skipSuccessfulRequests: boolean;
  /** Give back requests that failed, errored, or whose client went away first. */
  readonly skipFailedRequests: boolean;
  /** What success means. */
  readonly requestWasSuccessful: (request: Req, response: Res) => boolean | Promise<boolean>;
}

/** express-rate-limit's definition of success, kept so moving over changes nothing. */
export const statusBelow400 = (_request: unknown, response: { readonly statusCode: number }): boolean =>
  response.statusCode < 400;

/**
 * Calls `refund` once when the response is over and the rules say the
 * request should not count: on `finish` by `requestWasSuccessful`, and with
 * `skipFailedRequests` also on a response error or a client that went away
 * before the response was sent.
 *
 * A failed refund or a throwing `requestWasSuccessful` is dropped: a
 * response hook has nobody to report to, and the request then simply counts.
 *
 * @example
 * ```ts
 * refundWhenDone(req, res, rules, () => limiter.refund(key, { cost }))
 * ```
 */
export function refundWhenDone<Req, Res extends FinishingResponse>(
  request: Req,
  response: Res,
  rules: RefundRules<Req, Res>,
  refund: () => Promise<void>,
): void {
  let settled = false;
  const give = () => {
    if (settled) return;
    settled = true;
    refund().catch(() => {});
  };
  response.once('finish', () => {
    Promise.resolve()
      .then(() => rules.requestWasSuccessful(request, response))
      .then((success) => {
        if (success ? rules.skipSuccessfulRequests : rules.skipFailedRequests) give();
      })
      .catch(() => {});
  });
  if (!rules.skipFailedRequests) return;
  response.once('close', () => {
    // `close` follows every `finish` too; only an unfinished response failed.
    if (!response.writableEnded) give();
  });
  response.once('error', give);
}

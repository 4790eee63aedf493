import { RedkitError } from '@redkit/core';

/** No way to run Redis for the tests was found. */
export class RedisServerNotFoundError extends RedkitError {
  constructor(detail: string) {
    super(
      'E_REDIS_SERVER_NOT_FOUND',
      `cannot start Redis for the tests: ${detail}. Install redis-server ` +
        '(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), ' +
        'or set REDIS_SERVER_BIN to its path, or REDKIT_TEST_BACKEND=docker with a running Docker engine, ' +
        'or REDIS_URL / REDIS_CLUSTER_NODES to use servers that already run.',
    );
  }
}

/** A harness step did not finish in time or went wrong. */
export class HarnessError extends RedkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_HARNESS', message, options);
  }
}

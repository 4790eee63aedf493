import { durationSchema, redisConnectionSchema } from '@redkit/core';

/**
 * The options every store for another library's interface takes (the
 * express-rate-limit, @nestjs/throttler and @fastify/rate-limit stores); each
 * adds its key prefix under the name its library's users know.
 */
export const adapterStoreShape = {
  redis: redisConnectionSchema,
  /**
   * Bound on each call to Redis. By default the connection's own command
   * timeout bounds it (`connect()` sets one), which costs no timer per call.
   */
  timeout: durationSchema({ min: 1, max: 60_000 }).optional(),
};

import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import type { RedisConnection } from '@redkit/core';
import { SkipRateLimit } from '@redkit/ratelimit/nest';
import { REDIS } from '../redis/redis.module.js';

/** GET /health: for load balancers; not rate-limited. */
@Controller('health')
@SkipRateLimit()
export class HealthController {
  constructor(@Inject(REDIS) private readonly redis: RedisConnection) {}

  @Get()
  async check(): Promise<{ status: 'ok' }> {
    try {
      await this.redis.ping();
    } catch {
      throw new ServiceUnavailableException('Redis is unreachable');
    }
    return { status: 'ok' };
  }
}

import {
  type ConnectOptions,
  connect,
  type Duration,
  defineScript,
  driverFor,
  type durationSchema,
  type InvalidOptionsError,
  type LuaScript,
  type RedkitError,
  TelemetryEmitter,
} from '@redkit/core';
import type { Cluster, Redis } from 'ioredis';
import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';

describe('public types', () => {
  it('connect returns a Cluster for cluster URLs and options with nodes', () => {
    expectTypeOf(connect('redis+cluster://a:1,b:2')).toEqualTypeOf<Cluster>();
    expectTypeOf(connect({ nodes: ['a:1'] })).toEqualTypeOf<Cluster>();
    expectTypeOf(connect('redis://a')).toEqualTypeOf<Redis | Cluster>();
  });

  it('options accept durations as numbers or unit strings only', () => {
    expectTypeOf<{ url: string; commandTimeout: '250ms' }>().toExtend<ConnectOptions>();
    expectTypeOf<'250ms'>().toExtend<Duration>();
    expectTypeOf<'10 minutes'>().not.toExtend<Duration>();
    expectTypeOf<z.output<ReturnType<typeof durationSchema>>>().toEqualTypeOf<number>();
  });

  it('scripts carry their reply type through the driver', () => {
    const script = defineScript<[number, string]>('get-pair', '-- Reply: x\nreturn 1');
    expectTypeOf(script).toEqualTypeOf<LuaScript<[number, string]>>();
    const redis = connect('redis://a');
    expectTypeOf(driverFor(redis).script(script, [], [])).resolves.toEqualTypeOf<[number, string]>();
  });

  it('errors share the base class', () => {
    expectTypeOf<InvalidOptionsError>().toExtend<RedkitError>();
    expectTypeOf<InvalidOptionsError['issues'][number]>().toEqualTypeOf<{
      readonly path: string;
      readonly message: string;
    }>();
  });

  it('telemetry payloads are typed per event', () => {
    const emitter = new TelemetryEmitter<{ hit: { key: string } }>('cache');
    expectTypeOf(emitter.emit).parameter(0).toEqualTypeOf<'hit'>();
    expectTypeOf(emitter.on<'hit'>)
      .parameter(1)
      .parameter(0)
      .toEqualTypeOf<{ key: string }>();
  });
});

import { driverFor, probeCapabilities, warnIfEvictable } from '@redkit/core';
import { createAclUser, serverLine, startStandalone } from '@redkit/testing';
import { describeTopologies, testServer } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';

describeTopologies('capabilities', (t) => {
  it('probes version, topology, TIME in scripts and the eviction policy, once per connection', async () => {
    const db = driverFor(t.redis);
    const capabilities = await probeCapabilities(db);
    if (testServer(t.topology).source === 'harness') expect(capabilities.server).toBe(serverLine());
    expect(capabilities.serverVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(capabilities.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(capabilities.versionParts[0]).toBeGreaterThanOrEqual(6);
    expect(capabilities.cluster).toBe(t.topology === 'cluster');
    expect(capabilities.timeInScripts).toBe(true);
    expect(capabilities.maxmemoryPolicy).toBe('noeviction');
    expect(capabilities.mayEvict).toBe(false);
    expect(probeCapabilities(db)).toBe(probeCapabilities(db));
  });
});

describe('eviction warning', () => {
  it('warns once per connection and pattern when keys may be evicted', async () => {
    const server = await startStandalone({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'REDKIT_EVICTION_POLICY') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      const db = driverFor(server.client());
      await warnIfEvictable(db, 'lock');
      await warnIfEvictable(db, 'lock');
      await warnIfEvictable(db, 'session');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toMatch(/maxmemory-policy is allkeys-lru: .* evict lock keys/);
    } finally {
      process.off('warning', onWarning);
      await server.stop();
    }
  });

  it('does not fail for a user that may not run CONFIG, and needs +time for TIME in scripts', async () => {
    const server = await startStandalone();
    try {
      const admin = server.client();
      const withTime = await createAclUser(admin, { commands: ['eval', 'time'] });
      const withoutTime = await createAclUser(admin, { commands: ['eval'] });
      const probe = (user: { username: string; password: string }) =>
        probeCapabilities(driverFor(server.client({ username: user.username, password: user.password })));
      const capabilities = await probe(withTime);
      expect(capabilities.maxmemoryPolicy).toBe('unknown');
      expect(capabilities.timeInScripts).toBe(true);
      // ACL rules apply to commands called from scripts too.
      expect((await probe(withoutTime)).timeInScripts).toBe(false);
    } finally {
      await server.stop();
    }
  });
});

import { driverFor, probeCapabilities, scanAll } from '@redkit/core';
import { leastPrivilegeContract } from '@redkit/testing/contracts';
import { expect } from 'vitest';
import { addCounter } from './fixtures/scripts.js';

/** The ACL commands core itself needs, as listed in packages/core/README.md. */
const coreCommands = ['evalsha', 'eval', 'time', 'scan', 'publish', 'subscribe', 'unsubscribe'];

leastPrivilegeContract({
  name: 'core',
  // The script's own commands (INCRBY) are checked against the ACL too.
  commands: [...coreCommands, 'incrby'],
  channels: () => ['*'],
  title: 'runs scripts, scans and pub/sub with exactly the documented commands',
  run: async (redis, t) => {
    const db = driverFor(redis);
    const key = `${t.namespace}:{acl}:n`;
    expect((await db.script(addCounter, [key], [1]))[0]).toBe(1);
    const found: string[] = [];
    for await (const keys of scanAll(db, `${t.namespace}:{acl}*`)) found.push(...keys);
    expect(found).toEqual([key]);
    expect((await probeCapabilities(db)).timeInScripts).toBe(true);
    // Keys outside the user's namespace are refused by the server.
    await expect(db.script(addCounter, ['elsewhere:{x}:n'], [1])).rejects.toThrow(/NOPERM/);
  },
});

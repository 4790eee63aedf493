import { driverFor, probeCapabilities, scanAll } from '@redkit/core';
import { createAclUser } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { addCounter } from './fixtures/scripts.js';

/** The ACL commands core itself needs, as listed in packages/core/README.md. */
const coreCommands = ['evalsha', 'eval', 'time', 'scan', 'publish', 'subscribe', 'unsubscribe'];

describeTopologies('core as a least-privilege ACL user', (t) => {
  it('runs scripts, scans and pub/sub with exactly the documented commands', async () => {
    // The script's own commands (INCRBY) are checked against the ACL too.
    const user = await createAclUser(t.redis, { commands: [...coreCommands, 'incrby'], keys: [`${t.namespace}:*`] });
    try {
      const db = driverFor(t.client({ username: user.username, password: user.password }));
      const key = `${t.namespace}:{acl}:n`;
      expect((await db.script(addCounter, [key], [1]))[0]).toBe(1);
      const found: string[] = [];
      for await (const keys of scanAll(db, `${t.namespace}:{acl}*`)) found.push(...keys);
      expect(found).toEqual([key]);
      expect((await probeCapabilities(db)).timeInScripts).toBe(true);
      // Keys outside the user's namespace are refused by the server.
      await expect(db.script(addCounter, ['elsewhere:{x}:n'], [1])).rejects.toThrow(/NOPERM/);
    } finally {
      await user.remove();
    }
  });
});

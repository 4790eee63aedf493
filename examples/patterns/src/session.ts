// Sessions in Redis: the web tier keeps no state. Idle and absolute timeouts,
// atomic partial updates, and "log out everywhere".
import { connect } from '@redkit/core';
import { SessionStore } from '@redkit/session';
import { z } from 'zod';

const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const sessions = new SessionStore({
  redis,
  namespace: 'example-sessions',
  ttl: '30m', // idle timeout
  absoluteTtl: '12h', // however active, the session ends 12 h after login
  schema: z.object({ cart: z.array(z.string()) }),
});
await sessions.destroyAll('user-42'); // start clean, so the example can run twice

// Login on two devices: each gets a random id (the cookie).
const laptop = await sessions.create('user-42', { cart: [] });
const phone = await sessions.create('user-42', { cart: [] });

// A request: read and renew the idle timeout in one round trip, then update a field.
await sessions.update(laptop.id, { cart: ['sku-1'] });
const read = await sessions.get(laptop.id, { touch: true });
console.log(`laptop session of ${read?.userId}: cart ${JSON.stringify(read?.data.cart)}`);
console.log(`user-42 has ${(await sessions.list('user-42')).length} sessions`);

// Log out everywhere.
console.log(`logged out ${await sessions.destroyAll('user-42')} sessions`);
console.log(`phone session after logout: ${await sessions.get(phone.id)}`);

await redis.quit();

// Keyv 5 and cache-manager 7 on RedkitKeyvStore: values set through one
// client come back through another connection, so from Redis.
import { RedkitKeyvStore } from '@redkit/cache/keyv';
import { connect } from '@redkit/core';
import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { namespace, redis, redisUrl, report, versionOf } from './app-kit.mjs';

const other = connect(redisUrl);
const keyvOn = (client, keyvNamespace) =>
  new Keyv({ store: new RedkitKeyvStore({ redis: client, namespace }), namespace: keyvNamespace });

await keyvOn(redis).set('user:42', { name: 'Ada' }, 60_000);
const keyvRead = await keyvOn(other).get('user:42');

const cache = createCache({ stores: [keyvOn(redis, 'cm')] });
let loads = 0;
const load = async () => {
  loads++;
  return { price: 7 };
};
const wrapped = [await cache.wrap('product:1', load, 60_000), await cache.wrap('product:1', load, 60_000)];
const cacheRead = await createCache({ stores: [keyvOn(other, 'cm')] }).get('product:1');

// Both entries are Redis keys under the store's namespace, expiring within the minute.
const keys = (await redis.keys(`${namespace}:*`)).sort();
const ttls = await Promise.all(keys.map((key) => redis.pttl(key)));
other.disconnect();
report({
  versions: { keyv: versionOf('keyv'), 'cache-manager': versionOf('cache-manager') },
  keyvRead,
  wrapped,
  loads,
  cacheRead,
  keys: keys.length,
  expiring: ttls.every((ttl) => ttl > 0 && ttl <= 60_000),
});

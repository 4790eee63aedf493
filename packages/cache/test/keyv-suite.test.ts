import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { RedkitKeyvStore } from '@redkit/cache/keyv';
import { describeTopologies } from '@redkit/testing/vitest';
import Keyv from 'keyv';
import * as vitest from 'vitest';

/**
 * Keyv's own contract suite, run whole against the adapter on both
 * topologies: the API (get/set with ttl/delete/deleteMany/clear/has, dense
 * getMany), values of every kind through Keyv's serializer, namespaces that
 * do not collide, and the iterator. Every store the suite makes shares this
 * block's redkit namespace, as stores of one app share one Redis.
 */
describeTopologies('@keyv/test-suite', (t) => {
  const store = () => new RedkitKeyvStore({ redis: t.redis, namespace: t.namespace });
  keyvTestSuite(vitest, Keyv, store);
  keyvIteratorTests(vitest, Keyv, store);
});

// One standalone server and one 3+3 cluster for the whole run.
export { setup } from '@redkit/testing/vitest';

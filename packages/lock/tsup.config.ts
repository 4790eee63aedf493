import { packageBuild } from '../../tsup.base.js';

export default packageBuild(
  { index: 'src/index.ts', redlock: 'src/redlock.ts' },
  {
    // Both entries share their modules through chunks, in CJS too: the
    // subpath must throw the very error classes the main entry exports
    // (`instanceof LockBusyError`), not copies of them.
    splitting: true,
  },
);

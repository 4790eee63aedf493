import { packageBuild } from '../../tsup.base.js';

export default packageBuild(
  { index: 'src/index.ts', keyv: 'src/keyv.ts' },
  // The Keyv adapter takes the Cache class from the main entry (one class
  // declaration, not two), and keyv is an optional peer.
  { external: ['@redkit/cache', 'keyv'] },
);

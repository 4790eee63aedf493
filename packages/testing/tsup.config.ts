import { packageBuild } from '../../tsup.base.js';

export default packageBuild({ index: 'src/index.ts', vitest: 'src/vitest.ts', contracts: 'src/contracts/index.ts' });

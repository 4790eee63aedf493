import { packageBuild } from '../../tsup.base.js';

// bullmq is an optional peer, loaded only by the /bullmq subpath.
export default packageBuild({ index: 'src/index.ts', bullmq: 'src/bullmq.ts' }, { external: ['bullmq'] });

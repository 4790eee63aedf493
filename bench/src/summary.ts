import type { ScenarioResult } from './report.js';

/** A hot path of the summary: the scenario that measures it, redkit's variant and the peers it competes with. */
interface HotPath {
  readonly path: string;
  readonly scenario: string;
  readonly redkit: string;
  readonly peers: readonly string[];
}

/**
 * The operations users run most, each beside the libraries they would
 * otherwise pick (issue #19's hot paths and #17's drop-in adapters).
 */
const hotPaths: readonly HotPath[] = [
  {
    path: 'fixed-window check',
    scenario: 'ratelimit-fixed-window',
    redkit: 'redkit',
    peers: ['rate-limit-redis', 'rate-limiter-flexible'],
  },
  {
    path: 'lock acquire + release, uncontended',
    scenario: 'lock-uncontended',
    redkit: 'redkit',
    peers: ['redis-semaphore', 'redlock'],
  },
  {
    path: 'cache hit (Redis, 1 KB)',
    scenario: 'cache-hit-redis-1kb',
    redkit: 'redkit',
    peers: ['cache-manager', 'bentocache'],
  },
  {
    path: 'cache miss with a loader',
    scenario: 'cache-miss-loader',
    redkit: 'redkit',
    peers: ['cache-manager', 'bentocache'],
  },
  { path: 'session get + touch', scenario: 'session-get-touch', redkit: 'redkit', peers: ['connect-redis'] },
  {
    path: 'express-rate-limit store',
    scenario: 'ratelimit-express-store',
    redkit: 'redkit-store',
    peers: ['rate-limit-redis'],
  },
  {
    path: '@fastify/rate-limit store',
    scenario: 'ratelimit-fastify-store',
    redkit: 'redkit-store',
    peers: ['fastify-redis-store'],
  },
  {
    path: 'express-session store get',
    scenario: 'session-store-get',
    redkit: 'redkit-store',
    peers: ['connect-redis'],
  },
  {
    path: 'express-session store set',
    scenario: 'session-store-set',
    redkit: 'redkit-store',
    peers: ['connect-redis'],
  },
  {
    path: 'express-session store touch',
    scenario: 'session-store-touch',
    redkit: 'redkit-store',
    peers: ['connect-redis'],
  },
  { path: 'Keyv get (hit)', scenario: 'keyv-get-hit', redkit: 'redkit-keyv', peers: ['keyv-redis'] },
  { path: 'Keyv set', scenario: 'keyv-set', redkit: 'redkit-keyv', peers: ['keyv-redis'] },
];

const columns = [
  'hot path',
  'topology',
  'redkit ratio',
  'fastest peer',
  'peer ratio',
  'redkit node µs/op',
  'peer node µs/op',
  'redkit redis µs/op',
  'peer redis µs/op',
  'measured',
];

const start = '<!-- summary -->';
const end = '<!-- /summary -->';
const blockPattern = /<!-- summary -->[\s\S]*?<!-- \/summary -->/;

const topologyOf = (label: string) => (label.startsWith('cluster') ? 'cluster' : 'standalone');

/** This run's summary rows, keyed by hot path and topology. */
function rowsOf(results: readonly ScenarioResult[], date: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const hot of hotPaths) {
    const result = results.find(({ scenario }) => scenario.name === hot.scenario);
    if (!result) continue;
    for (const topology of result.topologies) {
      const baseline = topology.variants[0]?.median.opsPerSec ?? 0;
      const redkit = topology.variants.find(({ name }) => name === hot.redkit)?.median;
      const peers = topology.variants.filter(({ name }) => hot.peers.includes(name));
      if (!redkit || peers.length === 0 || baseline === 0) continue;
      const fastest = peers.reduce((best, peer) => (peer.median.opsPerSec > best.median.opsPerSec ? peer : best));
      const peer = fastest.median;
      rows.set(`${hot.path}|${topologyOf(topology.label)}`, [
        hot.path,
        topologyOf(topology.label),
        (redkit.opsPerSec / baseline).toFixed(2),
        fastest.name,
        (peer.opsPerSec / baseline).toFixed(2),
        redkit.nodeUsPerOp.toFixed(1),
        peer.nodeUsPerOp.toFixed(1),
        redkit.redisUsPerOp.toFixed(1),
        peer.redisUsPerOp.toFixed(1),
        date,
      ]);
    }
  }
  return rows;
}

/** The rows of an existing summary block, keyed as {@link rowsOf} keys them. */
function existingRows(document: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  const block = blockPattern.exec(document)?.[0] ?? '';
  for (const line of block.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim());
    if (cells[0] === 'hot path' || /^-+$/.test(cells[0] ?? '')) continue;
    rows.set(`${cells[0]}|${cells[1]}`, cells);
  }
  return rows;
}

/**
 * The summary section: each hot path, redkit beside the fastest peer in the
 * same run, on both topologies, as ratios to the scenario's baseline and CPU
 * µs per operation. Rows of hot paths this run did not measure keep their
 * earlier figures and date.
 */
export function summarySection(document: string, results: readonly ScenarioResult[], date: string): string {
  const rows = existingRows(document);
  for (const [key, row] of rowsOf(results, date)) rows.set(key, row);
  const ordered = hotPaths.flatMap((hot) =>
    ['standalone', 'cluster'].flatMap((topology) => {
      const row = rows.get(`${hot.path}|${topology}`);
      return row ? [row] : [];
    }),
  );
  return [
    start,
    '## Summary',
    '',
    'Each hot path with redkit beside the fastest peer measured in the same run (both ratios are to that ' +
      "scenario's baseline, so they compare directly; `measured` is the run's date). A ratio above the " +
      "peer's and fewer µs per operation mean redkit is ahead. The sections below give every variant, " +
      'the commands each sends and the spread between rounds.',
    '',
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...ordered.map((row) => `| ${row.join(' | ')} |`),
    end,
  ].join('\n');
}

export { blockPattern as summaryPattern };

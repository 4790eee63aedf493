// The dashboard's script: plain browser JavaScript, no build step. It listens
// to /dashboard/events (server-sent events; the browser reconnects by itself)
// and writes each snapshot into the page.

const $ = (id) => document.getElementById(id);
const history = { ratio: [], denied: [] };
let lastDenied = null;

function setText(id, value) {
  const el = $(id);
  const text = String(value);
  if (el && el.textContent !== text) el.textContent = text;
}

function spark(id, values, max) {
  const top = Math.max(max ?? Math.max(...values, 1), 1e-9);
  const step = values.length > 1 ? 100 / (values.length - 1) : 100;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(38 - (v / top) * 36).toFixed(1)}`);
  $(id).setAttribute('points', points.join(' '));
}

function remember(list, value) {
  list.push(value);
  if (list.length > 60) list.shift();
}

function render(s) {
  const ratio = s.cache.hitRatio;
  setText('cache-ratio', ratio === null ? '–' : `${(ratio * 100).toFixed(1)} %`);
  $('cache-bar').style.width = `${ratio === null ? 0 : ratio * 100}%`;
  setText('cache-hits', s.cache.hits);
  setText('cache-misses', s.cache.misses);
  setText('cache-stale', s.cache.staleServed);
  setText('cache-collapsed', s.cache.collapsed);
  if (ratio !== null) remember(history.ratio, ratio);
  spark('cache-spark', history.ratio, 1);

  setText('rl-denied', s.rateLimit.denied);
  setText('rl-denied-small', s.rateLimit.denied);
  setText('rl-allowed', s.rateLimit.allowed);
  $('rl-by').innerHTML = Object.entries(s.rateLimit.deniedBy)
    .map(([name, n]) => `<div class="row"><span>denied by "${name}"</span><span>${n}</span></div>`)
    .join('');
  remember(history.denied, lastDenied === null ? 0 : s.rateLimit.denied - lastDenied);
  lastDenied = s.rateLimit.denied;
  spark('rl-spark', history.denied);

  setText('q-processed', s.queue.processed);
  setText('q-processed-small', s.queue.processed);
  setText('q-lag', s.queue.lag);
  setText('q-pending', s.queue.pending);
  setText('q-delayed', s.queue.delayed);
  setText('q-retried', s.queue.retried);
  setText('q-dead', s.queue.dead);
  $('q-dead').className = s.queue.dead > 0 ? 'bad' : '';

  setText('p-inuse', s.permits.inUse);
  setText('p-limit', s.permits.limit);
  $('p-bar').style.width = `${(100 * s.permits.inUse) / s.permits.limit}%`;
  setText('p-acquired', s.permits.acquired);
  setText('p-waits', s.permits.waits);

  $('lb').innerHTML = s.leaderboard
    .map(
      (e) =>
        `<tr><td class="rank">${e.rank}</td><td>${escapeHtml(e.member)}</td><td class="score">${e.score}</td></tr>`,
    )
    .join('');

  $('dead').innerHTML = s.deadLetters
    .map(
      (d) =>
        `<tr><td>${escapeHtml(d.id)}</td><td>product ${d.productId ?? '?'}</td><td>${d.attempts} attempts</td>` +
        `<td class="error">${escapeHtml(d.error)}</td></tr>`,
    )
    .join('');
  $('dead-empty').hidden = s.deadLetters.length > 0;

  setText('db', s.database);
  setText('uptime', s.uptimeSeconds);
  document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const events = new EventSource('/dashboard/events');
events.onopen = () => {
  $('status').className = 'live';
  $('status').textContent = 'live';
};
events.onmessage = (message) => {
  $('status').className = 'live';
  $('status').textContent = 'live';
  render(JSON.parse(message.data));
};
events.addEventListener('problem', (message) => {
  $('status').className = 'down';
  $('status').textContent = `Redis trouble: ${JSON.parse(message.data).error}`;
});
events.onerror = () => {
  $('status').className = 'down';
  $('status').textContent = 'reconnecting…';
};

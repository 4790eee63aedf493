import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { testServer } from '@redkit/testing/vitest';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../src/server.js';
import { startTraffic, type Traffic } from '../src/traffic.js';
import { startTestService } from './helpers.js';

// The page's globals, as far as the predicates below use them (the type-check has no DOM lib).
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  getElementById(id: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};

const chromiumPath = '/usr/bin/chromium';
const screenshotDir = fileURLToPath(new URL('../../../.tmp/', import.meta.url));

// The dashboard in a real browser (Debian's chromium, driven by playwright-core: no downloaded browser).
describe('live dashboard in headless Chromium', () => {
  let service: RunningService;
  let traffic: Traffic;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`${chromiumPath} not found: install Debian's chromium (apt-get install chromium); .ci/run does`);
    }
    [service, browser] = await Promise.all([
      startTestService(testServer('standalone').url),
      chromium.launch({
        executablePath: chromiumPath,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    ]);
    traffic = startTraffic(service.url, { pauseMs: 100 });
  });
  afterAll(async () => {
    await traffic?.stop();
    await browser?.close();
    await service?.close();
  });

  it('shows live values that change while traffic runs, and takes a screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${service.url}/dashboard`);
    await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1);
    expect(await page.textContent('#status')).toBe('live');
    expect(await page.textContent('#p-limit')).toBe('2');

    // Values move on their own: pushed over SSE while the traffic runs.
    const allowed = Number(await page.textContent('#rl-allowed'));
    const processed = Number(await page.textContent('#q-processed'));
    await page.waitForFunction(
      ([a, p]) =>
        Number(document.getElementById('rl-allowed')?.textContent) > (a as number) &&
        Number(document.getElementById('q-processed')?.textContent) > (p as number),
      [allowed, processed],
    );
    // Every panel has something to show: hits, denials of the bursting user, a dead letter, the top 10.
    await page.waitForFunction(
      () =>
        /%$/.test(document.getElementById('cache-ratio')?.textContent ?? '') &&
        Number(document.getElementById('rl-denied')?.textContent) > 0 &&
        Number(document.getElementById('q-dead')?.textContent) > 0 &&
        Number(document.getElementById('p-acquired')?.textContent) > 0 &&
        document.querySelectorAll('#lb tr').length >= 7,
      undefined,
      { timeout: 20_000 },
    );
    const rows = await page.$$eval('#lb tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(rows.length).toBeLessThanOrEqual(10);

    mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: `${screenshotDir}dashboard.png`, fullPage: true });
    expect(existsSync(`${screenshotDir}dashboard.png`)).toBe(true);
  }, 60_000);
});

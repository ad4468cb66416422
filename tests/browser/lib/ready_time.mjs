// Time to a usable overview: a fresh browser context (no cache) opens URL and waits for
// body[data-state=ready]; repeated N times. Prints one JSON line {"runs_ms": [...], "median_ms"}.
// Used by bench/serve_bench.sh:  node tests/browser/lib/ready_time.mjs URL [N]
import { launchBrowser, openPage, waitReady } from './harness.mjs';

const [url, n = '5'] = process.argv.slice(2);
if (!url) { console.error('usage: ready_time.mjs URL [N]'); process.exit(2); }
const browser = await launchBrowser();
const runs = [];
try {
  for (let i = 0; i < Number(n); i++) {
    const { context, page, errors } = await openPage(browser);
    const t0 = performance.now();
    await page.goto(url);
    await waitReady(page, 60_000);
    runs.push(Math.round(performance.now() - t0));
    if (errors.length) console.error(`console errors: ${errors.join('; ')}`);
    await context.close();
  }
} finally {
  await browser.close();
}
const sorted = [...runs].sort((a, b) => a - b);
console.log(JSON.stringify({ runs_ms: runs, median_ms: sorted[Math.floor((sorted.length - 1) / 2)] }));

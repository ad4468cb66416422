// The browser tests' harness: a real lake (iotad init + generate + a hand-written hostile CSV +
// iotad run), a real `iotad serve` process on it (127.0.0.1:0, the printed address parsed),
// Debian's chromium driven by playwright-core, and `iotad sql` for the expected figures.
// Anything that cannot be set up throws, so the test FAILS (never skips).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../../..');
export const IOTAD = process.env.IOTAD_BIN || path.join(ROOT, 'build/src/iotad/iotad');
export const CHROMIUM = process.env.IOTAD_CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'tests/browser/screenshots');

// The device and the location a hostile CSV brings in: they must render as text everywhere.
export const XSS_DEVICE = '<img src=x onerror=alert(1)>';
export const XSS_LOCATION = '<b>Lab</b>';

/** Runs iotad; a non-zero exit throws with its output. Returns stdout. */
export function iotad(args, { env, timeout = 300_000, input } = {}) {
  if (!fs.existsSync(IOTAD)) throw new Error(`the iotad binary is missing at ${IOTAD} (build it, or set IOTAD_BIN)`);
  const r = spawnSync(IOTAD, args.map(String), {
    encoding: 'utf8', timeout, input, env: { ...process.env, ...(env || {}) }, maxBuffer: 256 << 20,
  });
  if (r.error) throw new Error(`iotad ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`iotad ${args.join(' ')} exited ${r.status}:\n${(r.stdout || '').slice(-2000)}\n${(r.stderr || '').slice(-2000)}`);
  }
  return r.stdout;
}

/** Parses CSV text (RFC 4180: quotes, doubled quotes, newlines in quotes) into rows of strings. */
export function parseCsv(text) {
  const rows = [];
  let row = [], field = '', i = 0, quoted = false, any = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      field += c; i++; continue;
    }
    if (c === '"') { quoted = true; any = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; any = true; i++; continue; }
    if (c === '\r') { i++; continue; }
    if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; any = false; i++; continue; }
    field += c; any = true; i++;
  }
  if (any || field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** `iotad sql --format csv QUERY` on the lake: an array of objects keyed by column name. */
export function sql(lake, query) {
  const rows = parseCsv(iotad(['sql', '--lake', lake, '--format', 'csv', query]));
  if (rows.length === 0) throw new Error(`iotad sql printed nothing for: ${query}`);
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, j) => [h, r[j]])));
}

/** The single number a `SELECT count(*) ...` prints. */
export function sqlNumber(lake, query) {
  const rows = sql(lake, query);
  if (rows.length !== 1) throw new Error(`expected one row from: ${query}, got ${rows.length}`);
  const v = Object.values(rows[0])[0];
  const n = Number(v);
  if (v === '' || !Number.isFinite(n)) throw new Error(`not a number (${v}) from: ${query}`);
  return n;
}

/** The hostile CSV: one day of readings every 5 minutes for XSS_DEVICE at XSS_LOCATION, with two
 * temperature spikes (so it has anomalies, a bar and a device page with marks) and one row whose
 * time is not one (quarantined). */
export function hostileCsv(day = '2024-01-01', spikes = [300, 900]) {
  let s = 'event_time,device_id,temp_c,humidity_pc,vibration_g,location\n';
  for (let m = 0; m < 24 * 60; m += 5) {
    const hh = String(Math.floor(m / 60)).padStart(2, '0');
    const mm = String(m % 60).padStart(2, '0');
    const t = spikes.includes(m) ? 95 : 20 + Math.sin(m / 100);
    s += `${day}T${hh}:${mm}:00Z,${XSS_DEVICE},${t.toFixed(2)},50.0,0.05,"${XSS_LOCATION}"\n`;
  }
  // one row with a time that is not one: quarantined, and shown on the device's page
  s += `not-a-time,${XSS_DEVICE},20.00,50.0,0.05,"${XSS_LOCATION}"\n`;
  return s;
}

/** A lake made the way a user makes one: iotad init, iotad generate into its inbox, the hostile
 * CSV beside, iotad run (ingest, silver, gold, checks, alerts). Returns its folder. */
export function makeLake({ devices = 12, hours = 48, seed = 3, anomalyRate = 20, dir } = {}) {
  const base = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'iotad-browser-'));
  const lake = path.join(base, 'lake');
  iotad(['init', lake]);
  iotad(['generate', '--devices', devices, '--hours', hours, '--seed', seed, '--anomaly-rate', anomalyRate,
    '--out', path.join(lake, 'inbox')]);
  fs.writeFileSync(path.join(lake, 'inbox', 'hostile.csv'), hostileCsv());
  iotad(['run', '--lake', lake]);
  return lake;
}

/** Starts `iotad serve --lake LAKE --listen 127.0.0.1:0 ...extra` and waits for the line
 * "dashboard: http://HOST:PORT/" on its stdout. Returns {url, proc, output(), stop()}. */
export async function startServer(lake, extra = [], { env, timeoutMs = 30_000 } = {}) {
  if (!fs.existsSync(IOTAD)) throw new Error(`the iotad binary is missing at ${IOTAD}`);
  const args = ['serve', '--lake', lake, '--listen', '127.0.0.1:0', ...extra];
  const proc = spawn(IOTAD, args, { env: { ...process.env, ...(env || {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stdout.setEncoding('utf8'); proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`iotad serve printed no "dashboard: http://..." within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    const check = () => {
      const m = out.match(/dashboard: (http:\/\/[^\s/]+\/)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    proc.stdout.on('data', check);
    proc.on('error', (e) => { clearTimeout(timer); reject(new Error(`cannot start iotad serve: ${e.message}`)); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`iotad serve exited (code ${code}, signal ${signal}) before listening\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  // The server must answer /healthz before a browser is pointed at it.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(new URL('/healthz', url));
      if (r.status === 200) break;
      if (Date.now() > deadline) throw new Error(`/healthz answered ${r.status}: ${await r.text()}`);
    } catch (e) {
      if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`iotad serve at ${url} does not answer /healthz: ${e.message}\nstderr: ${err}`); }
    }
    await sleep(100);
  }
  return {
    url,
    proc,
    output: () => ({ stdout: out, stderr: err }),
    /** SIGTERM, then the exit status (a clean stop is code 0). */
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Debian's chromium, headless, through playwright-core. */
export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`chromium is missing at ${CHROMIUM}: run scripts/setup.sh (apt-get install chromium) or set IOTAD_CHROMIUM`);
  }
  // --no-sandbox: the tests run as root (CI); the pages are our own on loopback.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** A new page that records console errors, page errors, failed requests and dialogs (each dialog
 * is dismissed). `problems()` lists them as text. */
export async function openPage(browser, { viewport = { width: 1400, height: 1000 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [], dialogs = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url || ''})`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on('requestfailed', (r) => {
    // A navigation that replaces the page aborts its pending fetches: not a problem of the page.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return { context, page, errors, dialogs };
}

/** Waits for body[data-state=ready]; data-state=error (or a timeout) throws with #error's text. */
export async function waitReady(page, timeout = 15_000) {
  try {
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body?.dataset.state), null, { timeout });
  } catch (e) {
    const state = await page.evaluate(() => document.body?.dataset.state).catch(() => '?');
    throw new Error(`page ${page.url()} did not reach data-state=ready in ${timeout} ms (state ${state})`);
  }
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'ready') {
    const msg = await page.evaluate(() => document.querySelector('#error')?.textContent ?? '').catch(() => '');
    throw new Error(`page ${page.url()} reached data-state=${state}: ${msg}`);
  }
}

/** Retries `fn` (which asserts) until it passes or `timeout` ms have gone; then throws its last error. */
export async function eventually(fn, timeout = 10_000, every = 150) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try { return await fn(); } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    await sleep(every);
  }
}

/** What the ECharts instance `window.iotad.charts[name]` draws: for each series (by name) its data
 * items (normalised to `value` arrays or numbers), and each axis's type and categories. */
export async function chartData(page, name) {
  return page.evaluate((name) => {
    const charts = window.iotad && window.iotad.charts;
    if (!charts) throw new Error('window.iotad.charts is missing');
    const c = charts[name];
    if (!c) throw new Error(`window.iotad.charts has no "${name}" (has: ${Object.keys(charts).join(', ')})`);
    const o = c.getOption();
    const norm = (d) => (d !== null && typeof d === 'object' && !Array.isArray(d) && 'value' in d ? d.value : d);
    const axes = (list) => (list || []).map((a) => ({ type: a.type, data: (a.data || []).map((x) => (x !== null && typeof x === 'object' ? x.value : x)) }));
    const series = {};
    for (const s of o.series || []) series[s.name] = { type: s.type, data: (s.data || []).map(norm) };
    return { series, xAxis: axes(o.xAxis), yAxis: axes(o.yAxis), names: Object.keys(series) };
  }, name);
}

export function seriesOf(chart, name) {
  const s = chart.series[name];
  if (!s) throw new Error(`the chart has no series "${name}" (has: ${chart.names.join(', ')})`);
  return s.data;
}

/** Saves a screenshot of the page into tests/browser/screenshots/NAME.png (and returns the path). */
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (name === 'overview' && process.env.IOTAD_UPDATE_SCREENSHOT === '1') {
    const doc = path.join(ROOT, 'docs/img/overview.png');
    fs.mkdirSync(path.dirname(doc), { recursive: true });
    await page.screenshot({ path: doc, fullPage: false });
  }
  return file;
}

/** Digits of a rendered number ("12,345" -> 12345). */
export function numberText(s) {
  const t = String(s ?? '').replace(/[\s,\u00a0\u202f_']/g, '');
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) throw new Error(`"${s}" is not a number`);
  return n;
}

/** Clicks the data item `index` of the bar series `seriesName` of chart `name` with the mouse, at
 * the middle of its bar (whichever axis is the category one). */
export async function clickBar(page, name, seriesName, index) {
  const pos = await page.evaluate(({ name, seriesName, index }) => {
    const c = window.iotad.charts[name];
    const o = c.getOption();
    const si = o.series.findIndex((s) => s.name === seriesName);
    if (si < 0) throw new Error(`no series ${seriesName}`);
    const d = o.series[si].data[index];
    const v = Number(d !== null && typeof d === 'object' && !Array.isArray(d) ? d.value : d);
    const horizontal = (o.yAxis || [])[0]?.type === 'category';
    const p = c.convertToPixel({ seriesIndex: si }, horizontal ? [v / 2, index] : [index, v / 2]);
    const r = c.getDom().getBoundingClientRect();
    return { x: r.left + p[0], y: r.top + p[1] };
  }, { name, seriesName, index });
  await page.mouse.click(pos.x, pos.y);
}

/** Elements the hostile names would have created had they been inserted as HTML. */
export async function injectedElements(page) {
  return page.evaluate(() => {
    const imgs = [...document.querySelectorAll('img')].filter((i) => i.getAttribute('src') === 'x' || i.hasAttribute('onerror'));
    const bs = [...document.querySelectorAll('b')].filter((b) => b.textContent === 'Lab');
    return imgs.length + bs.length;
  });
}

/**
 * A suite's lake, server and browser, made once before its tests and closed after them. A set-up
 * that fails (no binary, no chromium, a server that does not start) fails every test with its
 * reason, never 'cancelled': each test calls `ready()` first, which throws the set-up's error or
 * returns `{ lake, server, browser }`. `secret`: a token the server must never print;
 * `cleanStop`: the server must exit 0 on SIGTERM.
 */
export function suiteFixture({ lake: lakeOptions = {}, serverArgs = [], prepare, secret, cleanStop = false } = {}) {
  const f = { lake: null, server: null, browser: null };
  let error = null;
  before(async () => {
    try {
      f.lake = makeLake(lakeOptions);
      prepare?.(f.lake);
      f.server = await startServer(f.lake, serverArgs);
      f.browser = await launchBrowser();
    } catch (e) {
      error = e;
    }
  });
  after(async () => {
    await f.browser?.close();
    if (!f.server) return;
    const { code } = await f.server.stop();
    const { stdout, stderr } = f.server.output();
    if (cleanStop) assert.equal(code, 0, `iotad serve did not stop cleanly on SIGTERM: ${JSON.stringify(f.server.output())}`);
    if (secret) assert.ok(!stdout.includes(secret) && !stderr.includes(secret), 'a token is never printed by iotad serve');
  });
  return () => {
    if (error) throw error;
    return f;
  };
}

// The device page in a real browser: one chart per metric whose anomaly marks are exactly the
// device's gold rows, a tooltip explaining a mark, its alerts and quarantined rows, the hostile
// device's name as text; screenshots device.png and device-hostile.png.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  chartData, eventually, injectedElements, openPage, screenshot, seriesOf, sql, sqlNumber, suiteFixture, waitReady, XSS_DEVICE,
} from './lib/harness.mjs';

let lake, server, browser;
const fixture = suiteFixture({ lake: { devices: 8, hours: 48 } });
const ready = () => ({ lake, server, browser } = fixture());

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const devicePath = (id) => `/device?id=${encodeURIComponent(id)}`;

/** The range the device page shows by default (the API's answer says which: meta.from/to). */
async function defaultRange(id) {
  const r = await fetch(new URL(`/api/device/series?id=${encodeURIComponent(id)}`, server.url));
  assert.equal(r.status, 200, `/api/device/series for ${id}`);
  const j = await r.json();
  return { from: j.meta.from, to: j.meta.to };
}

async function checkDevice(id, shot) {
  const { context, page, errors, dialogs } = await openPage(browser);
  await page.goto(new URL(devicePath(id), server.url).href);
  await waitReady(page);
  assert.equal(await page.textContent('#device-title'), id, '#device-title is the id, as text');

  const { from, to } = await defaultRange(id);
  const range = `device_id = ${q(id)} AND event_time >= ${q(from)}::TIMESTAMPTZ AND event_time < ${q(to)}::TIMESTAMPTZ`;
  const metrics = sql(lake, `SELECT DISTINCT metric FROM gold_summary WHERE device_id = ${q(id)} ORDER BY 1`).map((r) => r.metric);
  assert.ok(metrics.length >= 3, `the device has metrics: ${metrics}`);
  let marks = 0;
  for (const m of metrics) {
    assert.equal(await page.locator(`.metric-chart[data-metric="${m}"]`).count(), 1, `a chart for ${m}`);
    const c = await chartData(page, `device:${m}`);
    const want = sql(lake, `SELECT epoch_ms(event_time) AS ms FROM anomalies WHERE ${range} AND metric = ${q(m)} ORDER BY 1`)
      .map((r) => Number(r.ms));
    const got = (c.series.anomalies ? c.series.anomalies.data : []).map((d) => Number(Array.isArray(d) ? d[0] : d)).sort((a, b) => a - b);
    assert.deepEqual(got, want, `${id} ${m}: anomaly marks = the gold rows (${from} .. ${to})`);
    marks += want.length;
    const points = seriesOf(c, 'value');
    const readings = sqlNumber(lake, `SELECT count(${m}) FROM silver WHERE ${range}`);
    assert.ok(points.filter((d) => (Array.isArray(d) ? d[1] : d) !== null).length <= readings && points.length > 0,
      `${m}: the series has points (at most the ${readings} readings)`);
    assert.ok(c.series.band || (c.series.band_lo && c.series.band_hi), `${m}: the expected range is drawn as a band`);
  }
  assert.ok(marks > 0, `${id} has anomaly marks to check`);

  const alerts = sqlNumber(lake, `SELECT count(*) FROM alerts WHERE device = ${q(id)}`);
  await eventually(async () => assert.equal(await page.locator('#device-alerts tbody tr').count(), alerts,
    `#device-alerts: one row per alert of ${id}`));
  const quarantined = sqlNumber(lake, `SELECT count(*) FROM quarantine WHERE list_contains(string_split(raw, ','), ${q(id)})`);
  assert.equal(await page.locator('#device-quarantine tbody tr').count(), quarantined, `#device-quarantine rows of ${id}`);

  assert.equal(await injectedElements(page), 0, 'no element made from a hostile name');
  await screenshot(page, shot);
  assert.deepEqual(errors, [], `console errors on the page of ${id}`);
  assert.deepEqual(dialogs, [], `dialogs on the page of ${id}`);
  return { context, page, errors, dialogs, from, to };
}

describe('device page', () => {
  test('marks equal the gold rows of a generated device; hovering one explains it', async () => {
    ready();
    const top = sql(lake, "SELECT device_id FROM anomalies WHERE metric = 'temp_c' AND device_id LIKE 'dev-%' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")[0].device_id;
    const { context, page, errors, from, to } = await checkDevice(top, 'device');
    const a = sql(lake, `SELECT epoch_ms(event_time) AS ms, value, detector, rule, explanation FROM anomalies
        WHERE device_id = ${q(top)} AND metric = 'temp_c' AND event_time >= ${q(from)}::TIMESTAMPTZ
        AND event_time < ${q(to)}::TIMESTAMPTZ ORDER BY 1 LIMIT 1`)[0];
    // Hover the mark with the mouse; the tooltip names the value, detector and rule.
    const pos = await page.evaluate(({ ms, value }) => {
      const c = window.iotad.charts['device:temp_c'];
      const si = c.getOption().series.findIndex((s) => s.name === 'anomalies');
      const p = c.convertToPixel({ seriesIndex: si }, [ms, value]);
      const r = c.getDom().getBoundingClientRect();
      return { x: r.left + p[0], y: r.top + p[1] };
    }, { ms: Number(a.ms), value: Number(a.value) });
    await page.locator('.metric-chart[data-metric="temp_c"]').scrollIntoViewIfNeeded();
    const pos2 = await page.evaluate(({ ms, value }) => {
      const c = window.iotad.charts['device:temp_c'];
      const si = c.getOption().series.findIndex((s) => s.name === 'anomalies');
      const p = c.convertToPixel({ seriesIndex: si }, [ms, value]);
      const r = c.getDom().getBoundingClientRect();
      return { x: r.left + p[0], y: r.top + p[1] };
    }, { ms: Number(a.ms), value: Number(a.value) });
    assert.ok(pos && pos2);
    await page.mouse.move(pos2.x, pos2.y);
    await eventually(async () => {
      const text = await page.locator('.metric-chart[data-metric="temp_c"]').innerText();
      assert.ok(text.includes(a.detector), `the tooltip names the detector ${a.detector}: ${text}`);
      assert.ok(!a.rule || text.includes(a.rule), `the tooltip names the rule ${a.rule}: ${text}`);
      const v = Number(a.value);
      assert.ok([v.toString(), v.toFixed(2), v.toFixed(1)].some((s) => text.includes(s)), `the tooltip shows the value ${v}: ${text}`);
      assert.match(text, /expected|range/i, 'the tooltip shows the expected range');
    }, 5000);
    assert.deepEqual(errors, [], 'console errors after hovering');
    await context.close();
  });

  test('the hostile device: its name, marks, alerts and quarantined row render as text', async () => {
    ready();
    const { context, page, errors, dialogs } = await checkDevice(XSS_DEVICE, 'device-hostile');
    const text = await page.locator('body').innerText();
    assert.ok(text.includes(XSS_DEVICE), 'the hostile name is shown as text');
    assert.ok(await page.locator('#device-quarantine').innerText().then((t) => t.includes('not-a-time')),
      'the quarantined raw line is shown');
    assert.equal(await injectedElements(page), 0);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('an unknown device says so (no crash)', async () => {
    ready();
    const { context, page, errors } = await openPage(browser);
    const resp = await page.goto(new URL(devicePath('no-such-device'), server.url).href);
    assert.equal(resp.status(), 200, 'the page itself loads');
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 15_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'error', 'data-state=error for an unknown device');
    assert.match(await page.textContent('#error'), /no-such-device|not found|unknown/i, '#error says what is wrong');
    // The browser logs the failed request (404) itself; nothing else.
    assert.deepEqual(errors.filter((e) => !/status of 404/.test(e)), [], 'no other console errors');
    await context.close();
  });
});

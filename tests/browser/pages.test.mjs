// The alerts and pipeline pages in a real browser: their tables equal `iotad sql`, the hostile
// device's alerts show its name as text, nav links work, no console errors; screenshots
// alerts.png and pipeline.png.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  eventually, injectedElements, iotad, openPage, screenshot, sqlNumber, suiteFixture, waitReady, XSS_DEVICE,
} from './lib/harness.mjs';

let lake, server, browser;
// a second run: nothing new, one more row in the runs table
const fixture = suiteFixture({ lake: { devices: 8, hours: 24 }, prepare: (l) => iotad(['run', '--lake', l]) });
const ready = () => ({ lake, server, browser } = fixture());

describe('pages', () => {
  test('alerts page: one row per alert, state filters, the hostile name as text', async () => {
    ready();
    const { context, page, errors, dialogs } = await openPage(browser);
    await page.goto(new URL('/alerts', server.url).href);
    await waitReady(page);
    const all = sqlNumber(lake, 'SELECT count(*) FROM alerts');
    assert.ok(all > 0 && all <= 200, `the lake has alerts (${all})`);
    await eventually(async () => assert.equal(await page.locator('#alerts-table tbody tr[data-alert-id]').count(), all,
      '#alerts-table: one row per alert (state all)'));
    const firing = sqlNumber(lake, "SELECT count(*) FROM alerts WHERE status = 'firing' AND acknowledged_at IS NULL");
    await page.click('[data-alert-state=open]');
    await eventually(async () => {
      await waitReady(page);
      assert.equal(await page.locator('#alerts-table tbody tr[data-alert-id]').count(), firing, 'state=open: the firing, unacknowledged alerts');
    });
    await page.click('[data-alert-state=resolved]');
    const resolved = sqlNumber(lake, "SELECT count(*) FROM alerts WHERE status = 'resolved'");
    await eventually(async () => {
      await waitReady(page);
      assert.equal(await page.locator('#alerts-table tbody tr[data-alert-id]').count(), resolved, 'state=resolved');
    });
    await page.click('[data-alert-state=all]');
    await eventually(async () => assert.equal(await page.locator('#alerts-table tbody tr[data-alert-id]').count(), all));
    const hostile = sqlNumber(lake, `SELECT count(*) FROM alerts WHERE device = '${XSS_DEVICE}'`);
    assert.ok(hostile > 0, 'the hostile device has alerts');
    assert.ok((await page.locator('#alerts-table').innerText()).includes(XSS_DEVICE), 'its name is shown as text');
    assert.equal(await page.locator('#silences-table').count(), 1, '#silences-table');
    assert.equal(await injectedElements(page), 0, 'no element made from a hostile name');
    await screenshot(page, 'alerts');
    assert.deepEqual(errors, [], 'console errors on /alerts');
    assert.deepEqual(dialogs, [], 'dialogs on /alerts');
    await context.close();
  });

  test('pipeline page: runs, state, accounting, bookmark, partitions', async () => {
    ready();
    const { context, page, errors } = await openPage(browser);
    await page.goto(new URL('/pipeline', server.url).href);
    await waitReady(page);
    const runs = sqlNumber(lake, 'SELECT count(*) FROM runs');
    assert.equal(runs, 2);
    assert.equal(await page.locator('#runs-table tbody tr').count(), runs, '#runs-table: one row per run');
    for (const sel of ['#state-stages', '#accounting', '#bookmark', '#partitions-table', '#failed-checks']) {
      assert.equal(await page.locator(sel).count(), 1, `${sel} is on the page`);
    }
    // Silver's hours by default; the layer picker lists another layer's and keeps it in the URL.
    const hours = (layer) => sqlNumber(lake, `SELECT count(DISTINCT (year, month, day, hour)) FROM ${layer}`);
    assert.equal(await page.locator('#partitions-table tbody tr').count(), hours('silver'), 'one row per silver hour');
    await page.selectOption('#partitions-layer', 'gold_summary');
    await eventually(async () => {
      assert.match(page.url(), /[?&]layer=gold_summary/);
      assert.equal(await page.locator('#partitions-table tbody tr td:nth-child(2)').first().innerText(), 'gold_summary');
    });
    await waitReady(page);
    assert.equal(await page.locator('#partitions-table tbody tr').count(), hours('gold_summary'), 'one row per gold_summary hour');
    const stored = sqlNumber(lake, 'SELECT count(*) FROM silver');
    const acc = await page.locator('#accounting').innerText();
    assert.ok(acc.replace(/[,\s\u00a0\u202f]/g, '').includes(String(stored)), `#accounting shows the ${stored} stored rows: ${acc}`);
    await screenshot(page, 'pipeline');
    assert.deepEqual(errors, [], 'console errors on /pipeline');
    await context.close();
  });

  test('nav links lead to every page; each is ready with no console errors', async () => {
    ready();
    const { context, page, errors } = await openPage(browser);
    await page.goto(server.url);
    await waitReady(page);
    const hrefs = await page.$$eval('a[data-nav]', (as) => as.map((a) => new URL(a.href).pathname));
    for (const p of ['/', '/alerts', '/pipeline']) assert.ok(hrefs.includes(p), `a nav link to ${p}: ${hrefs}`);
    for (const p of ['/alerts', '/pipeline', '/']) {
      await page.click(`a[data-nav][href="${p}"]`);
      await page.waitForURL((u) => u.pathname === p);
      await waitReady(page);
    }
    assert.deepEqual(errors, [], 'console errors while navigating');
    await context.close();
  });

  test('a new run is picked up by the open page (polling /api/version)', async () => {
    ready();
    const { context, page, errors } = await openPage(browser);
    await page.goto(new URL('/pipeline', server.url).href);
    await waitReady(page);
    const before = await page.evaluate(() => document.body.dataset.lakeSeq);
    assert.ok(before, 'body.dataset.lakeSeq is set');
    // new data lands (two more hours) and a run commits it
    iotad(['generate', '--devices', 8, '--hours', 2, '--seed', 4, '--start', '2024-01-03T00:00:00Z',
      '--out', path.join(lake, 'inbox')]);
    iotad(['run', '--lake', lake]);
    const runs = sqlNumber(lake, 'SELECT count(*) FROM runs');
    await eventually(async () => {
      assert.equal(await page.locator('#runs-table tbody tr').count(), runs, 'the third run shows without a reload');
    }, 15_000);
    assert.notEqual(await page.evaluate(() => document.body.dataset.lakeSeq), before, 'lakeSeq moved on');
    assert.deepEqual(errors, [], 'console errors');
    await context.close();
  });
});

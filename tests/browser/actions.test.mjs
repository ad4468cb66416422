// The alert actions from the alerts page with `iotad serve --write-token`: nothing is sent
// without the token, a wrong one is refused, the right one (a Bearer header, never in a URL)
// acknowledges and silences, and the lake then says so (`iotad sql` on the alerts and silences).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import {
  eventually, openPage, screenshot, sql, sqlNumber, suiteFixture, waitReady,
} from './lib/harness.mjs';

const WRITE = `w-${crypto.randomBytes(12).toString('hex')}`;
let lake, server, browser;
const fixture = suiteFixture({ lake: { devices: 12, hours: 48 }, serverArgs: ['--write-token', WRITE], secret: WRITE });
const ready = () => ({ lake, server, browser } = fixture());

describe('alert actions', () => {
  test('ack and silence need the write token, then change the lake', async () => {
    ready();
    const firing = sql(lake, "SELECT id FROM alerts WHERE status = 'firing' AND acknowledged_at IS NULL ORDER BY id");
    assert.ok(firing.length >= 2, `the lake has at least two open alerts (${firing.length})`);
    const { context, page, errors } = await openPage(browser);
    const posts = [];
    page.on('request', (r) => {
      assert.ok(!r.url().includes(WRITE), `the write token is never in a URL: ${r.url()}`);
      if (r.method() === 'POST') posts.push({ url: new URL(r.url()).pathname, auth: r.headers().authorization || '' });
    });
    await page.goto(new URL('/alerts?state=open', server.url).href);
    await waitReady(page);
    const row = (id) => page.locator(`#alerts-table tbody tr[data-alert-id="${id}"]`);
    const [ackId, silenceId] = [firing[0].id, firing[1].id];
    await page.click('[data-alert-state=open]');
    await waitReady(page);

    // no token: nothing is sent
    await page.fill('#write-token', '');
    await page.evaluate(() => sessionStorage.clear());
    await row(ackId).locator('[data-action=ack]').click();
    await page.waitForTimeout(300);
    assert.equal(posts.length, 0, 'no POST without a write token');

    // a wrong token: refused by the server, nothing changes
    await page.fill('#write-token', 'wrong-token');
    await row(ackId).locator('[data-action=ack]').click();
    await eventually(() => assert.equal(posts.length, 1, 'one POST with the wrong token'));
    await page.waitForTimeout(300);
    assert.equal(sqlNumber(lake, `SELECT count(*) FROM alerts WHERE id = '${ackId}' AND acknowledged_at IS NOT NULL`), 0,
      'a wrong token acknowledges nothing');

    // the right token: acknowledged in the lake
    await page.fill('#write-token', WRITE);
    await row(ackId).locator('[data-action=ack]').click();
    await eventually(() => assert.equal(sqlNumber(lake,
      `SELECT count(*) FROM alerts WHERE id = '${ackId}' AND acknowledged_at IS NOT NULL`), 1, 'the alert is acknowledged in the lake'));
    assert.equal(posts.at(-1).url, '/api/alerts/ack');
    assert.equal(posts.at(-1).auth, `Bearer ${WRITE}`, 'the write token goes as a Bearer header');
    await page.click('[data-alert-state=open]');
    await eventually(async () => assert.equal(await row(ackId).count(), 0, 'the acknowledged alert left the open list'));

    // silence another
    await eventually(async () => assert.equal(await row(silenceId).count(), 1));
    await row(silenceId).locator('[data-action=silence]').click();
    await eventually(() => assert.equal(sqlNumber(lake, 'SELECT count(*) FROM silences'), 1, 'one silence in the lake'));
    await eventually(async () => assert.equal(await page.locator('#silences-table tbody tr[data-silence-id]').count(), 1,
      '#silences-table lists it'));
    // The silence is this alert's (its rule and group): of the firing alerts, the API lists it and
    // only it as silenced (resolved episodes of the same group match too, and are not firing).
    const silenced = await (await fetch(new URL('/api/alerts?state=silenced', server.url))).json();
    assert.deepEqual(silenced.alerts.filter((a) => a.status === 'firing').map((a) => a.id), [silenceId],
      'the silenced firing alert is the one silenced');
    assert.ok(silenced.alerts.every((a) => a.rule === silenced.alerts[0].rule && a.group === silenced.alerts[0].group),
      'every silenced alert is of that rule and group');
    assert.ok(!(await page.content()).includes(WRITE), 'the write token is not in the page');
    await screenshot(page, 'alerts-actions');
    // The refused POST (wrong token) is logged by the browser itself; nothing else.
    assert.deepEqual(errors.filter((e) => !/status of 40[13]/.test(e)), [], 'console errors');
    await context.close();
  });
});

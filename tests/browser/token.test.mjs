// Access with a token (`iotad serve --token`, on loopback it is enforced too): a page without it
// is refused, the 401 page's form and /login let the browser in, the token never shows in the
// page, the cookie is HttpOnly, and the server never prints it; screenshot login.png.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import {
  openPage, screenshot, suiteFixture, waitReady,
} from './lib/harness.mjs';

const TOKEN = `tok-${crypto.randomBytes(12).toString('hex')}`;
let lake, server, browser;
const fixture = suiteFixture({ lake: { devices: 4, hours: 6 }, serverArgs: ['--token', TOKEN], secret: TOKEN });
const ready = () => ({ lake, server, browser } = fixture());

describe('token', () => {
  test('without the token every page and API call is refused', async () => {
    ready();
    for (const p of ['/', '/device?id=dev-00000', '/alerts', '/pipeline', '/assets/app.js', '/api/overview/totals', '/api/version', '/metrics']) {
      const r = await fetch(new URL(p, server.url), { redirect: 'manual' });
      assert.equal(r.status, 401, `${p} without the token`);
      const body = await r.text();
      assert.ok(!body.includes(TOKEN), `${p}: the 401 answer does not contain the token`);
    }
    const wrong = await fetch(new URL('/api/version', server.url), { headers: { Authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401, 'a wrong token is refused');
    const ok = await fetch(new URL('/api/version', server.url), { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200, 'the token as a bearer header');
    assert.equal((await fetch(new URL('/healthz', server.url))).status, 200, '/healthz needs no token');

    const { context, page } = await openPage(browser);
    const resp = await page.goto(server.url);
    assert.equal(resp.status(), 401, 'the browser gets 401 for / without the token');
    assert.equal(await page.evaluate(() => typeof window.iotad), 'undefined', 'the app did not load');
    assert.ok(await page.locator('input').count() >= 1, 'the 401 page asks for the token');
    await screenshot(page, 'login');
    await context.close();
  });

  test("the 401 page's form lets the browser in; the cookie is HttpOnly; the page never shows the token", async () => {
    ready();
    const { context, page, errors } = await openPage(browser);
    await page.goto(server.url);
    await page.locator('input').first().fill(TOKEN);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/' && !u.search.includes('token'), { timeout: 10_000 }),
      page.locator('input').first().press('Enter'),
    ]);
    await waitReady(page);
    assert.ok(await page.evaluate(() => !!window.iotad?.charts?.over_time), 'the overview rendered');
    assert.ok(!(await page.evaluate(() => document.cookie)).includes(TOKEN), 'the cookie is not readable by scripts');
    const cookies = await context.cookies();
    const c = cookies.find((x) => x.name === 'iotad_token');
    assert.ok(c, 'the iotad_token cookie is set');
    assert.equal(c.httpOnly, true, 'HttpOnly');
    assert.equal(c.sameSite, 'Strict', 'SameSite=Strict');
    assert.ok(!(await page.content()).includes(TOKEN), 'the token is not in the page');
    for (const p of ['/alerts', '/pipeline']) {
      await page.goto(new URL(p, server.url).href);
      await waitReady(page);
    }
    assert.deepEqual(errors.filter((e) => !/status of 401/.test(e)), [], 'console errors (besides the first 401)');
    await context.close();
  });

  test('/login with a wrong token is refused, with the right one goes to the overview', async () => {
    ready();
    const { context, page } = await openPage(browser);
    const bad = await page.goto(new URL('/login?token=wrong', server.url).href);
    assert.equal(bad.status(), 401, '/login with a wrong token');
    assert.equal((await context.cookies()).filter((x) => x.name === 'iotad_token').length, 0, 'no cookie for a wrong token');
    await page.goto(new URL(`/login?token=${encodeURIComponent(TOKEN)}`, server.url).href);
    assert.equal(new URL(page.url()).pathname, '/', 'redirected to /');
    await waitReady(page);
    await context.close();
  });
});

// The dashboard's entry: picks the view from the path, renders it, keeps body[data-state]
// (loading | ready | error), polls /api/version every 2 s and re-renders only when the lake's
// commit or the alert log moved. In report mode (#iotad-report-data present) it shows the
// overview from the embedded answers, without filters or polling.
import { getJson, HttpError, reportMode } from './api.js';
import { renderAlerts } from './alerts.js';
import { echarts } from './charts.js';
import { renderDevice } from './device.js';
import { clear } from './dom.js';
import { renderOverview } from './overview.js';
import { renderPipeline } from './pipeline.js';

window.iotad = { charts: {}, echarts };

const VIEWS = {
  overview: renderOverview,
  device: renderDevice,
  alerts: renderAlerts,
  pipeline: renderPipeline,
};

function currentView() {
  if (reportMode()) return 'overview';
  const path = window.location.pathname.replace(/\/+$/, '') || '/';
  if (path === '/device') return 'device';
  if (path === '/alerts') return 'alerts';
  if (path === '/pipeline') return 'pipeline';
  return 'overview';
}

const body = document.body;
let rendering = null;
let pending = false;
let viewName = null;
let seen = null; // {lake_seq, alert_seq} the page shows

function showError(message) {
  const node = document.getElementById('error');
  node.textContent = message;
  node.hidden = false;
  body.dataset.state = 'error';
}

function showLogin() {
  document.getElementById('login').hidden = false;
  document.getElementById('app').hidden = true;
  document.getElementById('login-token').focus();
}

/** Renders the current view; a render asked for while one runs runs once after it. */
async function render() {
  if (rendering) {
    pending = true;
    return rendering;
  }
  rendering = (async () => {
    do {
      pending = false;
      const name = currentView();
      const app = document.getElementById('app');
      if (name !== viewName) {
        for (const chart of Object.values(window.iotad.charts)) if (!chart.isDisposed()) chart.dispose();
        window.iotad.charts = {};
        clear(app);
        viewName = name;
      }
      markNav(name);
      body.dataset.state = 'loading';
      body.dataset.view = name;
      try {
        if (!reportMode() && seen === null) seen = await getJson('/api/version');
        await VIEWS[name](app, render);
        document.getElementById('error').hidden = true;
        if (seen) {
          body.dataset.lakeSeq = String(seen.lake_seq);
          body.dataset.alertSeq = String(seen.alert_seq);
          document.getElementById('lake-status').textContent = `lake commit ${seen.lake_seq} · alerts ${seen.alert_seq}`;
        }
        if (!pending) body.dataset.state = 'ready';
      } catch (e) {
        if (e instanceof HttpError && e.status === 401) showLogin();
        showError(e instanceof HttpError ? `${e.message} (HTTP ${e.status})` : `the page failed: ${e.message}`);
      }
    } while (pending);
  })();
  try {
    await rendering;
  } finally {
    rendering = null;
  }
}

function markNav(name) {
  for (const a of document.querySelectorAll('#nav a[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function poll() {
  if (document.hidden || rendering) return;
  try {
    const v = await getJson('/api/version');
    if (!seen || v.lake_seq !== seen.lake_seq || v.alert_seq !== seen.alert_seq) {
      seen = v;
      await render();
    }
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) {
      showLogin();
      showError(`${e.message} (HTTP 401)`);
    }
    // A failed poll leaves the page as it is; the next one tries again.
  }
}

function start() {
  document.getElementById('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = document.getElementById('login-token').value.trim();
    if (token) window.location.href = `/login?token=${encodeURIComponent(token)}`;
  });
  if (reportMode()) {
    body.dataset.report = 'true';
    document.getElementById('nav').hidden = true;
    const footer = document.getElementById('footer');
    const meta = document.getElementById('iotad-report-data');
    footer.textContent = `iotad report${meta.dataset.generated ? `, generated ${meta.dataset.generated}` : ''}`;
  } else {
    window.addEventListener('popstate', () => render());
    setInterval(poll, 2000);
  }
  render();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

// The dashboard's entry: picks the view from the path, renders it, keeps body[data-state]
// (loading | ready | error), polls /api/version every 2 s and re-renders only when the lake's
// commit or the alert log moved. In report mode (#iotad-report-data present) it shows the
// overview from the embedded answers, without filters or polling.
import { getJson, HttpError, reportMode } from './api.js';
import { renderAlerts } from './alerts.js';
import { disposeChart, echarts } from './charts.js';
import { renderDevice } from './device.js';
import { clear, h } from './dom.js';
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
        for (const chart of Object.values(window.iotad.charts)) disposeChart(chart);
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

/** The top bar's device search: suggestions from /api/devices?q=, Enter opens the device. */
function deviceSearch() {
  const form = document.getElementById('device-search');
  const input = document.getElementById('device-search-input');
  const list = document.getElementById('device-search-options');
  let timer = 0;
  let asked = '';
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (!q || q === asked || q.length > 200) return;
      asked = q;
      try {
        const answer = await getJson('/api/devices', new URLSearchParams({ q, limit: '20' }));
        if (input.value.trim() !== q) return;
        clear(list).append(...answer.devices.map((d) => {
          const option = h('option', { text: `${d.location ?? ''} · ${d.anomalies} anomalies` });
          option.value = d.device_id;
          return option;
        }));
      } catch {
        // Suggestions are a convenience: a failed lookup leaves the list as it was.
      }
    }, 200);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    let id = input.value.trim();
    // A prefix that names exactly one device opens it.
    const options = [...list.options].map((o) => o.value);
    if (!options.includes(id) && options.length === 1 && options[0].startsWith(id)) id = options[0];
    if (id) window.location.href = `/device?id=${encodeURIComponent(id)}`;
  });
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
    document.getElementById('device-search').hidden = true;
    const footer = document.getElementById('footer');
    const meta = document.getElementById('iotad-report-data');
    footer.textContent = `iotad report${meta.dataset.generated ? `, generated ${meta.dataset.generated}` : ''}`;
  } else {
    window.addEventListener('popstate', () => render());
    deviceSearch();
    setInterval(poll, 2000);
  }
  render();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

// The alerts page: alerts by state with their deliveries, silences, and the two actions
// (acknowledge, silence) that need the write token (kept in sessionStorage, sent as a Bearer header).
import { getJson, HttpError, postJson } from './api.js';
import { badge, card, clear, fmtInt, fmtNum, fmtTime, h, table } from './dom.js';
import { alertState } from './device.js';

const STATES = ['open', 'acknowledged', 'silenced', 'dead', 'resolved', 'all'];
const TOKEN_KEY = 'iotad_write_token';
let lastStatus = { text: '', kind: '' }; // the last action's outcome, kept across re-renders

export async function renderAlerts(root, rerender) {
  const url = new URLSearchParams(window.location.search);
  const state = STATES.includes(url.get('state')) ? url.get('state') : 'all';
  const answer = await getJson('/api/alerts', new URLSearchParams({ state, limit: '1000' }));
  clear(root);
  const buttons = h('div', { className: 'segmented', id: 'alert-states' }, STATES.map((s) => {
    const count = s === 'all' ? Object.values(answer.counts).reduce((a, b) => a + b, 0) : answer.counts[s];
    return h('button', {
      className: `seg${s === state ? ' active' : ''}`,
      attrs: { type: 'button', 'aria-pressed': s === state ? 'true' : 'false' },
      dataset: { alertState: s },
      on: { click: () => { const p = new URLSearchParams(window.location.search); p.set('state', s); window.history.pushState(null, '', `/alerts?${p}`); rerender(); } },
    }, [h('span', { text: s }), h('span', { className: 'seg-count', text: fmtInt(count) })]);
  }));
  const status = h('div', { id: 'action-status', className: 'action-status', attrs: { role: 'status' }, text: lastStatus.text });
  if (lastStatus.kind) status.dataset.kind = lastStatus.kind;
  root.append(
    h('div', { className: 'page-head' }, [h('h1', { text: 'Alerts' })]),
    buttons,
    tokenPanel(),
    status,
    card(`Alerts (${state})`, alertsTable(answer.alerts, status, rerender)),
    card('Silences', silencesTable(answer.silences, status, rerender)),
  );
}

function tokenPanel() {
  const input = h('input', { id: 'write-token', attrs: { type: 'password', placeholder: 'write token', autocomplete: 'off', 'aria-label': 'write token' } });
  input.value = sessionStorage.getItem(TOKEN_KEY) || '';
  const save = () => {
    const v = input.value.trim();
    if (v) sessionStorage.setItem(TOKEN_KEY, v);
    else sessionStorage.removeItem(TOKEN_KEY);
  };
  input.addEventListener('change', save);
  return h('div', { className: 'token-panel', id: 'write-token-panel' }, [
    h('span', { className: 'muted', text: 'Acknowledging and silencing need the write token (kept for this tab only):' }),
    input,
  ]);
}

function writeToken() {
  const input = document.getElementById('write-token');
  const v = (input && input.value.trim()) || sessionStorage.getItem(TOKEN_KEY) || '';
  if (v) sessionStorage.setItem(TOKEN_KEY, v);
  return v;
}

function say(status, text, kind) {
  lastStatus = { text, kind };
  status.textContent = text;
  status.dataset.kind = kind;
}

async function act(status, rerender, what, fn) {
  const token = writeToken();
  if (!token) {
    say(status, 'Enter the write token first.', 'error');
    document.getElementById('write-token')?.focus();
    return;
  }
  try {
    await fn(token);
    say(status, `${what}: done.`, 'ok');
    await rerender();
  } catch (e) {
    if (e instanceof HttpError && (e.status === 401 || e.status === 403)) sessionStorage.removeItem(TOKEN_KEY);
    say(status, `${what} failed: ${e.message}`, 'error');
  }
}

function alertsTable(alerts, status, rerender) {
  return table('alerts-table', [
    { label: 'Alert', value: (a) => h('div', {}, [h('div', { className: 'mono', text: a.id }), h('div', { className: 'muted', text: labelText(a.labels) })]) },
    { label: 'Rule', value: (a) => a.rule },
    { label: 'Severity', value: (a) => badge(a.severity, a.severity === 'critical' ? 'bad' : 'warn') },
    { label: 'State', value: (a) => badge(alertState(a), alertState(a) === 'open' ? 'bad' : alertState(a) === 'dead' ? 'warn' : 'neutral') },
    { label: 'Started', value: (a) => fmtTime(a.starts_at) },
    { label: 'Last event', value: (a) => fmtTime(a.last_event) },
    { label: 'Anomalies', value: (a) => fmtInt(a.anomalies), className: 'num' },
    { label: 'Max score', value: (a) => fmtNum(a.max_score), className: 'num' },
    { label: 'Summary', value: (a) => a.summary },
    { label: 'Deliveries', value: (a) => deliveriesTable(a.deliveries) },
    { label: '', value: (a) => actions(a, status, rerender) },
  ], alerts, (a) => ({ dataset: { alertId: a.id, state: alertState(a) } }));
}

function labelText(labels) {
  return Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).join(', ');
}

function deliveriesTable(deliveries) {
  if (!deliveries || deliveries.length === 0) return h('span', { className: 'muted', text: 'none' });
  return h('table', { className: 'table nested deliveries' }, [
    h('tbody', {}, deliveries.map((d) => h('tr', { dataset: { sink: d.sink } }, [
      h('td', { text: d.sink }),
      h('td', {}, [badge(d.state, d.state === 'delivered' ? 'good' : d.state === 'dead' ? 'bad' : 'neutral')]),
      h('td', { className: 'num', text: `${fmtInt(d.attempts)}×` }),
      h('td', { className: 'muted', text: d.last_error || (d.delivered_at ? fmtTime(d.delivered_at) : d.next_attempt_at ? `next ${fmtTime(d.next_attempt_at)}` : '') }),
    ]))),
  ]);
}

function actions(a, status, rerender) {
  const box = h('div', { className: 'actions' });
  if (a.status === 'firing' && !a.acknowledged) {
    box.append(h('button', {
      className: 'btn btn-small', text: 'Ack', attrs: { type: 'button' }, dataset: { action: 'ack' },
      on: { click: () => act(status, rerender, `Acknowledge ${a.id}`, (t) => postJson('/api/alerts/ack', { id: a.id, by: 'dashboard' }, t)) },
    }));
  }
  if (a.status === 'firing' && !a.silenced) {
    box.append(h('button', {
      className: 'btn btn-small', text: 'Silence 1 h', attrs: { type: 'button' }, dataset: { action: 'silence' },
      on: {
        click: () => act(status, rerender, `Silence ${a.id}`, (t) => postJson('/api/silences', {
          // This alert's rule and group (every alert has both, whatever it is grouped by).
          matchers: [{ label: 'rule', op: '=', value: a.rule }, { label: 'group', op: '=', value: a.group }],
          duration_seconds: 3600,
          reason: `silenced from the dashboard (alert ${a.id})`,
          by: 'dashboard',
        }, t)),
      },
    }));
  }
  return box;
}

function silencesTable(silences, status, rerender) {
  return table('silences-table', [
    { label: 'Silence', value: (s) => s.id, className: 'mono' },
    { label: 'Matchers', value: (s) => s.matchers.map((m) => `${m.label}${m.op}${m.value}`).join(', ') },
    { label: 'From', value: (s) => fmtTime(s.starts_at) },
    { label: 'Until', value: (s) => fmtTime(s.ends_at) },
    { label: 'Reason', value: (s) => s.reason },
    { label: 'By', value: (s) => s.created_by },
    { label: 'Active', value: (s) => badge(s.active ? 'active' : 'expired', s.active ? 'warn' : 'neutral') },
    {
      label: '',
      value: (s) => (s.active ? h('button', {
        className: 'btn btn-small', text: 'Expire', attrs: { type: 'button' }, dataset: { action: 'expire' },
        on: { click: () => act(status, rerender, `Expire ${s.id}`, (t) => postJson('/api/silences/expire', { id: s.id }, t)) },
      }) : ''),
    },
  ], silences, (s) => ({ dataset: { silenceId: s.id } }));
}

// The filter bar. The URL's query string mirrors the filters, so a view can be shared.
import { h } from './dom.js';

export const FILTERS = ['from', 'to', 'metric', 'location', 'device', 'detector'];
const LABELS = { from: 'From', to: 'To', metric: 'Metric', location: 'Location', device: 'Device', detector: 'Detector' };
const HINTS = { from: 'YYYY-MM-DD or RFC 3339', to: 'exclusive', metric: 'comma list', location: 'comma list', device: 'comma list', detector: 'comma list' };

/** The filters in the URL as API parameters (only those in `names`). */
export function filterParams(names = FILTERS) {
  const url = new URLSearchParams(window.location.search);
  const params = new URLSearchParams();
  for (const name of names) {
    const value = (url.get(name) || '').trim();
    if (value) params.set(name, value);
  }
  return params;
}

/**
 * The filter bar for `names`; `options` = {metric: [...], ...} fills the suggestion lists,
 * `applied` = {from, to} shows the range the server applied as placeholders. `onChange` runs after
 * the URL changed.
 */
export function filterBar(names, options, applied, onChange) {
  const current = new URLSearchParams(window.location.search);
  const fields = names.map((name) => {
    const listId = options[name] ? `filter-${name}-options` : undefined;
    const input = h('input', {
      id: `filter-${name}`,
      attrs: { type: 'text', name, list: listId, autocomplete: 'off', spellcheck: 'false', placeholder: placeholder(name, applied) },
    });
    input.value = current.get(name) || '';
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') apply();
    });
    const datalist = listId ? h('datalist', { id: listId }, options[name].map((v) => { const o = h('option'); o.value = v; return o; })) : null;
    return h('label', { className: 'filter' }, [h('span', { className: 'filter-label', text: LABELS[name] }), input, datalist]);
  });
  const apply = () => {
    const url = new URLSearchParams(window.location.search);
    for (const name of names) {
      const value = document.getElementById(`filter-${name}`).value.trim();
      if (value) url.set(name, value);
      else url.delete(name);
    }
    navigateQuery(url);
    onChange();
  };
  const reset = () => {
    const url = new URLSearchParams(window.location.search);
    for (const name of names) url.delete(name);
    for (const name of names) document.getElementById(`filter-${name}`).value = '';
    navigateQuery(url);
    onChange();
  };
  const buttons = h('div', { className: 'filter-buttons' }, [
    h('button', { id: 'filter-apply', className: 'btn btn-primary', text: 'Apply', attrs: { type: 'button' }, on: { click: apply } }),
    h('button', { id: 'filter-reset', className: 'btn', text: 'Reset', attrs: { type: 'button' }, on: { click: reset } }),
  ]);
  return h('div', { className: 'filters', id: 'filters' }, [...fields, buttons]);
}

function placeholder(name, applied) {
  if ((name === 'from' || name === 'to') && applied && applied[name]) return applied[name];
  return HINTS[name];
}

function navigateQuery(params) {
  const query = params.toString();
  const url = `${window.location.pathname}${query ? `?${query}` : ''}`;
  window.history.pushState(null, '', url);
}

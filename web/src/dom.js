// DOM helpers: every value goes into the page as text (textContent, value properties); no HTML
// is ever built from data.

/** Creates an element; `props` may hold className, text, attrs {name: value}, dataset, on {event: fn}. */
export function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  if (props.id) node.id = props.id;
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  if (props.dataset) for (const [k, v] of Object.entries(props.dataset)) node.dataset[k] = String(v);
  if (props.on) for (const [k, fn] of Object.entries(props.on)) node.addEventListener(k, fn);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const numberFormat = new Intl.NumberFormat('en-US');
export function fmtInt(n) {
  return n === null || n === undefined ? '–' : numberFormat.format(n);
}
export function fmtNum(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (typeof x !== 'number') return String(x);
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return x.toExponential(2);
  return Number(x.toFixed(digits)).toString();
}
/** Three significant digits, for labels in small cells. */
export function fmtShort(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return Number(x.toPrecision(3)).toString();
}
export function fmtTime(t) {
  if (!t) return '–';
  return String(t).replace(/\.\d+Z$/, 'Z').replace('T', ' ').replace(/:00Z$/, 'Z').replace(/Z$/, ' UTC');
}
export function fmtSeconds(s) {
  if (s === null || s === undefined) return '–';
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${fmtNum(s, 2)} s`;
}

/** A table: `columns` = [{label, value(row) -> string|Node, className}], one tbody tr per row. */
export function table(id, columns, rows, rowProps = () => ({})) {
  const thead = h('thead', {}, [h('tr', {}, columns.map((c) => h('th', { text: c.label, className: c.className })))]);
  const tbody = h('tbody');
  for (const row of rows) {
    const tr = h('tr', rowProps(row));
    for (const c of columns) {
      const v = c.value(row);
      tr.append(v instanceof Node ? h('td', { className: c.className }, [v]) : h('td', { className: c.className, text: v ?? '–' }));
    }
    tbody.append(tr);
  }
  const props = { className: 'table' };
  if (id) props.id = id;
  // The "nothing here" line sits in tfoot, so `tbody tr` always counts the rows.
  const tfoot = rows.length === 0 ? h('tfoot', {}, [h('tr', { className: 'empty' }, [h('td', { text: 'nothing here', attrs: { colspan: columns.length } })])]) : null;
  return h('table', props, [thead, tbody, tfoot]);
}

/** A titled card. */
export function card(title, body, extra = {}) {
  return h('section', { className: `card ${extra.className || ''}`.trim(), id: extra.id }, [
    h('header', { className: 'card-head' }, [h('h2', { text: title }), extra.aside || null]),
    body,
  ]);
}

export function badge(text, kind) {
  return h('span', { className: `badge badge-${kind}`, text });
}

// The pipeline page: runs with stage timings, the commit log's stages, row accounting, the bronze
// bookmark, partitions, and the latest failed checks.
import { getJson } from './api.js';
import { badge, card, clear, fmtInt, fmtSeconds, fmtTime, h, table } from './dom.js';

const LAYERS = ['silver', 'gold', 'gold_summary', 'bronze'];

/** The partitions' layer: `?layer=` of the page's URL when it is one of LAYERS, else silver. */
function chosenLayer() {
  const layer = new URLSearchParams(window.location.search).get('layer');
  return LAYERS.includes(layer) ? layer : 'silver';
}

/** The layer picker of the partitions card: changing it keeps the choice in the URL and re-renders. */
function layerPicker(layer, rerender) {
  const select = h('select', {
    id: 'partitions-layer',
    attrs: { 'aria-label': 'layer' },
    on: {
      change: () => {
        const url = new URL(window.location.href);
        url.searchParams.set('layer', select.value);
        window.history.replaceState(null, '', url);
        rerender();
      },
    },
  }, LAYERS.map((l) => h('option', { text: l })));
  select.value = layer;
  return select;
}

export async function renderPipeline(root, rerender) {
  const layer = chosenLayer();
  const [runs, state, partitions] = await Promise.all([
    getJson('/api/pipeline/runs', new URLSearchParams({ limit: '50' })),
    getJson('/api/pipeline/state'),
    getJson('/api/pipeline/partitions', new URLSearchParams({ layer, limit: '200' })),
  ]);
  clear(root);
  root.append(
    h('div', { className: 'page-head' }, [h('h1', { text: 'Pipeline' }), h('span', { className: 'muted', text: `lake commit ${fmtInt(state.lake_seq)}` })]),
    h('div', { className: 'grid' }, [
      card('Row accounting', dl('accounting', state.accounting, ['read', 'stored', 'quarantined', 'duplicates', 'merged'])),
      card('Bronze bookmark', dl('bookmark', state.bookmark, ['bronze_files', 'bronze_files_processed', 'bronze_files_pending'])),
      card('Committed stages', table('state-stages', [
        { label: 'Stage', value: (s) => s.stage },
        { label: 'Seq', value: (s) => fmtInt(s.seq), className: 'num' },
        { label: 'Run', value: (s) => s.run_id, className: 'mono' },
        { label: 'Committed', value: (s) => fmtTime(s.committed_at) },
      ], state.stages)),
      card('Layers', table('layers-table', [
        { label: 'Layer', value: (l) => l.layer },
        { label: 'Files', value: (l) => fmtInt(l.files), className: 'num' },
        { label: 'Bytes', value: (l) => fmtBytes(l.bytes), className: 'num' },
      ], state.layers)),
      card('Latest failed checks', table('failed-checks', [
        { label: 'Run', value: (c) => c.run_id, className: 'mono' },
        { label: 'Check', value: (c) => c.check },
        { label: 'Cause', value: (c) => c.detail },
      ], state.failed_checks), { className: 'span-2' }),
      card('Runs', table('runs-table', [
        { label: 'Run', value: (r) => r.run_id, className: 'mono' },
        { label: 'Command', value: (r) => r.command },
        { label: 'Status', value: (r) => badge(r.status, r.status === 'ok' || r.status === 'succeeded' ? 'good' : 'bad') },
        { label: 'Started', value: (r) => fmtTime(r.started_at) },
        { label: 'Duration', value: (r) => fmtSeconds(r.seconds), className: 'num' },
        { label: 'Stages', value: (r) => stageBars(r) },
        { label: 'Message', value: (r) => r.message || '' },
      ], runs.runs, (r) => ({ dataset: { runId: r.run_id } })), { className: 'span-2' }),
      card('Partitions', table('partitions-table', [
        { label: 'Hour', value: (p) => fmtTime(p.hour) },
        { label: 'Layer', value: (p) => p.layer },
        { label: 'Files', value: (p) => fmtInt(p.files), className: 'num' },
        { label: 'Bytes', value: (p) => fmtBytes(p.bytes), className: 'num' },
      ], partitions.partitions), { className: 'span-2', aside: layerPicker(layer, rerender) }),
    ]),
  );
}

function dl(id, obj, keys) {
  return h('dl', { id, className: 'kv' }, keys.flatMap((k) => [h('dt', { text: k.replaceAll('_', ' ') }), h('dd', { dataset: { key: k }, text: fmtInt(obj ? obj[k] : null) })]));
}

function stageBars(run) {
  const total = run.stages.reduce((s, st) => s + (st.seconds || 0), 0) || 1;
  return h('div', { className: 'stages' }, run.stages.map((st) => {
    const bar = h('span', { className: 'stage-bar' });
    // Width via the CSSOM (allowed by the CSP), never a style attribute.
    bar.style.width = `${Math.max(2, Math.round((100 * (st.seconds || 0)) / total))}%`;
    return h('div', { className: 'stage', attrs: { title: `${st.name}: ${fmtSeconds(st.seconds)}` } }, [
      h('span', { className: 'stage-name', text: st.name }), h('span', { className: 'stage-track' }, [bar]), h('span', { className: 'stage-s', text: fmtSeconds(st.seconds) }),
    ]);
  }));
}

function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

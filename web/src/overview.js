// The overview: totals, the four QuickSight visuals (anomalies over time, anomalies by device,
// mean per location and metric, summary statistics), all filtered by the filter bar.
import { getJson, reportMode } from './api.js';
import { axisCommon, chartIn, colors, tip, tooltipBase } from './charts.js';
import { badge, card, clear, fmtInt, fmtNum, fmtSeconds, fmtShort, fmtTime, h, table } from './dom.js';
import { FILTERS, filterBar, filterParams } from './filters.js';

const TOTALS = [
  ['devices', 'Devices'],
  ['readings', 'Readings'],
  ['anomalies', 'Anomalies'],
  ['quarantined', 'Quarantined rows'],
  ['open_alerts', 'Open alerts'],
  ['last_run', 'Last run'],
];

let layout = null;

function buildLayout(root) {
  const totals = h('div', { id: 'totals', className: 'totals' }, TOTALS.map(([key, label]) =>
    h('div', { className: `total total-${key}` }, [
      h('div', { className: 'total-label', text: label }),
      h('div', { className: 'total-value', dataset: { total: key }, text: '–' }),
      h('div', { className: 'total-sub', dataset: { totalSub: key } }),
    ])));
  const overTime = h('div', { className: 'chart', id: 'chart-over-time' });
  const byDevice = h('div', { className: 'chart chart-tall', id: 'chart-by-device' });
  const heatmap = h('div', { className: 'chart chart-tall', id: 'chart-heatmap' });
  const summary = h('div', { id: 'summary' });
  const filterSlot = h('div', { className: 'filter-slot' });
  const rangeNote = h('span', { className: 'muted', id: 'range-note' });
  const byDeviceNote = h('span', { className: 'muted', id: 'by-device-note' });
  root.append(
    h('div', { className: 'page-head' }, [h('h1', { text: 'Fleet overview' }), rangeNote]),
    filterSlot,
    totals,
    h('div', { className: 'grid' }, [
      card('Anomalies over time', overTime, { className: 'span-2' }),
      card('Anomalies by device', byDevice, { aside: byDeviceNote }),
      card('Average value by location', heatmap),
      card('Summary statistics', summary, { className: 'span-2' }),
    ]),
  );
  return { root, filterSlot, rangeNote, byDeviceNote, summary, overTimeDom: overTime, byDeviceDom: byDevice, heatmapDom: heatmap };
}

export async function renderOverview(root, rerender) {
  if (!layout || !root.contains(layout.filterSlot)) layout = buildLayout(clear(root));
  const params = filterParams(FILTERS);
  const [filters, totals, overTime, byDevice, heatmap, summary] = await Promise.all([
    getJson('/api/filters'),
    getJson('/api/overview/totals', params),
    getJson('/api/overview/anomalies_over_time', params),
    getJson('/api/overview/anomalies_by_device', withLimit(params, 20)),
    getJson('/api/overview/heatmap', params),
    getJson('/api/overview/summary', params),
  ]);
  const applied = totals.meta ? { from: totals.meta.from, to: totals.meta.to } : {};
  if (!reportMode()) {
    clear(layout.filterSlot).append(filterBar(FILTERS, { metric: filters.metrics, location: filters.locations.filter((l) => l !== null), detector: filters.detectors }, applied, rerender));
  }
  layout.rangeNote.textContent = applied.from ? `${fmtTime(applied.from)} → ${fmtTime(applied.to)}` : '';
  renderTotals(totals);
  const charts = window.iotad.charts;
  charts.over_time = drawOverTime(layout.overTimeDom, overTime);
  charts.by_device = drawByDevice(layout.byDeviceDom, byDevice);
  layout.byDeviceNote.textContent = `${fmtInt(byDevice.devices_with_anomalies)} devices with anomalies`;
  charts.heatmap = drawHeatmap(layout.heatmapDom, heatmap);
  clear(layout.summary).append(summaryTable(summary.rows));
}

function withLimit(params, limit) {
  const p = new URLSearchParams(params);
  p.set('limit', String(limit));
  return p;
}

function renderTotals(t) {
  const set = (key, text, sub) => {
    document.querySelector(`#totals [data-total="${key}"]`).textContent = text;
    document.querySelector(`#totals [data-total-sub="${key}"]`).textContent = sub || '';
  };
  set('devices', fmtInt(t.devices), 'with readings in range');
  set('readings', fmtInt(t.readings), 'silver rows');
  set('anomalies', fmtInt(t.anomalies), t.readings ? `${fmtNum((100 * t.anomalies) / t.readings, 2)}% of readings` : '');
  set('quarantined', fmtInt(t.quarantined), 'rows set aside');
  set('open_alerts', fmtInt(t.open_alerts), 'firing, not acknowledged');
  const run = t.last_run;
  const slot = document.querySelector('#totals [data-total="last_run"]');
  if (run) {
    slot.textContent = `${run.status} · ${run.command}`;
    slot.dataset.status = run.status;
    document.querySelector('#totals [data-total-sub="last_run"]').textContent = `${fmtTime(run.finished_at || run.started_at)} (${fmtSeconds(run.seconds)})`;
  } else {
    slot.textContent = 'none';
    delete slot.dataset.status;
  }
}

function drawOverTime(dom, answer) {
  const chart = chartIn(dom);
  const hourly = answer.bucket === 'hour';
  chart.setOption({
    animation: false,
    grid: { left: 48, right: 16, top: 16, bottom: 48 },
    tooltip: {
      ...tooltipBase,
      trigger: 'item',
      formatter: (p) => tip(fmtTime(new Date(p.value[0]).toISOString().replace('.000Z', 'Z')), [['anomalies', fmtInt(p.value[1])], ['bucket', answer.bucket]]),
    },
    xAxis: { type: 'time', ...axisCommon, splitLine: { show: false } },
    yAxis: { type: 'value', minInterval: 1, ...axisCommon },
    dataZoom: [{ type: 'inside' }],
    series: [{
      name: 'anomalies',
      type: 'line',
      showSymbol: answer.points.length <= 200,
      symbolSize: 5,
      step: hourly ? false : 'middle',
      itemStyle: { color: colors.anomaly },
      lineStyle: { width: 2 },
      areaStyle: { color: 'rgba(220, 38, 38, 0.08)' },
      data: answer.points.map((p) => [Date.parse(p.t), p.anomalies]),
    }],
  }, { notMerge: true });
  return chart;
}

function drawByDevice(dom, answer) {
  const chart = chartIn(dom);
  const bars = answer.bars.slice().reverse(); // most anomalies on top
  chart.setOption({
    animation: false,
    grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
    tooltip: {
      ...tooltipBase,
      trigger: 'item',
      formatter: (p) => tip(p.name, [['anomalies', fmtInt(p.value)], ['', 'click to open the device']]),
    },
    xAxis: { type: 'value', minInterval: 1, ...axisCommon },
    yAxis: {
      type: 'category',
      data: bars.map((b) => b.device_id),
      ...axisCommon,
      axisLabel: { color: colors.muted, fontSize: 11, width: 140, overflow: 'truncate' },
    },
    series: [{
      name: 'anomalies',
      type: 'bar',
      cursor: 'pointer',
      barMaxWidth: 18,
      itemStyle: { color: colors.primary, borderRadius: [0, 3, 3, 0] },
      emphasis: { itemStyle: { color: '#1d4ed8' } },
      data: bars.map((b) => b.anomalies),
    }],
  }, { notMerge: true });
  chart.off('click');
  chart.on('click', (p) => {
    if (p.seriesName === 'anomalies' && p.name && !reportMode()) {
      window.location.href = `/device?id=${encodeURIComponent(p.name)}`;
    }
  });
  return chart;
}

function drawHeatmap(dom, answer) {
  const chart = chartIn(dom);
  const metrics = answer.metrics;
  const locations = answer.locations.map((l) => (l === null ? '(no location)' : l));
  // Metrics have different units, so each cell is coloured by where its mean sits between its
  // metric's lowest and highest location mean; the tooltip shows the mean itself.
  const ranges = new Map();
  for (const c of answer.cells) {
    const r = ranges.get(c.metric) || { lo: Infinity, hi: -Infinity };
    r.lo = Math.min(r.lo, c.mean);
    r.hi = Math.max(r.hi, c.mean);
    ranges.set(c.metric, r);
  }
  const data = answer.cells.map((c) => {
    const r = ranges.get(c.metric);
    const rel = r.hi > r.lo ? (c.mean - r.lo) / (r.hi - r.lo) : 0.5;
    const y = answer.locations.indexOf(c.location);
    return { value: [metrics.indexOf(c.metric), y, rel], cell: c };
  });
  chart.setOption({
    animation: false,
    grid: { left: 8, right: 16, top: 8, bottom: 56, containLabel: true },
    tooltip: {
      ...tooltipBase,
      trigger: 'item',
      formatter: (p) => {
        const c = p.data.cell;
        return tip(`${c.location === null ? '(no location)' : c.location} · ${c.metric}`, [['mean', fmtNum(c.mean)], ['rows', fmtInt(c.rows)]]);
      },
    },
    xAxis: { type: 'category', data: metrics, ...axisCommon, splitArea: { show: true }, axisLabel: { color: colors.muted, fontSize: 11, rotate: metrics.length > 4 ? 30 : 0 } },
    yAxis: { type: 'category', data: locations, ...axisCommon, splitArea: { show: true }, axisLabel: { color: colors.muted, fontSize: 11, width: 120, overflow: 'truncate' } },
    visualMap: {
      min: 0, max: 1, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, itemWidth: 10,
      text: ['high', 'low'], textStyle: { color: colors.muted, fontSize: 11 },
      inRange: { color: ['#eff6ff', '#93c5fd', '#2563eb', '#1e3a8a'] },
    },
    series: [{
      name: 'mean',
      type: 'heatmap',
      data,
      label: { show: metrics.length * locations.length <= 60, fontSize: 10, formatter: (p) => fmtShort(p.data.cell.mean) },
      itemStyle: { borderColor: '#fff', borderWidth: 1 },
    }],
  }, { notMerge: true });
  return chart;
}

function summaryTable(rows) {
  return table('summary-table', [
    { label: 'Metric', value: (r) => r.metric },
    { label: 'Devices', value: (r) => fmtInt(r.devices), className: 'num' },
    { label: 'Readings', value: (r) => fmtInt(r.readings), className: 'num' },
    { label: 'Mean', value: (r) => fmtNum(r.mean), className: 'num' },
    { label: 'Std', value: (r) => fmtNum(r.std), className: 'num' },
    { label: 'Min', value: (r) => fmtNum(r.min), className: 'num' },
    { label: 'Max', value: (r) => fmtNum(r.max), className: 'num' },
    { label: 'Anomalies', value: (r) => (r.anomalies > 0 ? badge(fmtInt(r.anomalies), 'bad') : '0'), className: 'num' },
  ], rows);
}

export function resetOverview() {
  layout = null;
}

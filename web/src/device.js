// The device page: one chart per metric (readings, the expected band, anomaly marks whose tooltip
// explains the flag), the device's alerts and its quarantined rows.
import { getJson } from './api.js';
import { axisCommon, chartIn, colors, disposeChart, tip, tooltipBase } from './charts.js';
import { badge, card, clear, fmtInt, fmtNum, fmtTime, h, table } from './dom.js';
import { filterBar, filterParams } from './filters.js';

const DEVICE_FILTERS = ['from', 'to', 'metric'];

export async function renderDevice(root, rerender) {
  const id = new URLSearchParams(window.location.search).get('id') || '';
  if (!id) throw new Error('no device: open this page as /device?id=DEVICE');
  const idParams = new URLSearchParams({ id });
  const seriesParams = filterParams(DEVICE_FILTERS);
  seriesParams.set('id', id);
  const [device, series, alerts, quarantine] = await Promise.all([
    getJson('/api/device', idParams),
    getJson('/api/device/series', seriesParams),
    getJson('/api/device/alerts', idParams),
    getJson('/api/device/quarantine', (() => { const p = filterParams(['from', 'to']); p.set('id', id); return p; })()),
  ]);

  for (const [key, chart] of Object.entries(window.iotad.charts)) {
    disposeChart(chart);
    delete window.iotad.charts[key];
  }
  clear(root);
  const anomalyCount = series.metrics.reduce((n, m) => n + m.anomalies.length, 0);
  root.append(
    h('div', { className: 'page-head' }, [
      h('a', { className: 'back', text: '← Overview', attrs: { href: '/' }, dataset: { nav: 'overview' } }),
      h('h1', { id: 'device-title', text: device.device_id }),
      h('span', { className: 'muted', text: `${fmtTime(series.meta.from)} → ${fmtTime(series.meta.to)}` }),
    ]),
    filterBar(DEVICE_FILTERS, { metric: device.metrics }, { from: series.meta.from, to: series.meta.to }, rerender),
    h('div', { className: 'facts' }, [
      fact('Locations', device.locations.length ? device.locations.join(', ') : '–'),
      fact('Metrics', device.metrics.join(', ') || '–'),
      fact('Readings (all time)', fmtInt(device.readings)),
      fact('Anomalies (all time)', fmtInt(device.anomalies)),
      fact('Anomalies shown', fmtInt(anomalyCount)),
      fact('Data', `${fmtTime(device.first_hour)} → ${fmtTime(device.last_hour)}`),
    ]),
  );
  const grid = h('div', { className: 'metric-grid' });
  root.append(grid);
  for (const m of series.metrics) {
    const dom = h('div', { className: 'chart metric-chart', dataset: { metric: m.metric } });
    const note = m.band ? `band: ${m.band.detector} ±${fmtNum(m.band.threshold)}σ` : 'no band';
    grid.append(card(m.metric, dom, { aside: h('span', { className: 'muted', text: `${m.anomalies.length} anomalies · ${note}${m.downsampled ? ' · downsampled' : ''}` }) }));
    window.iotad.charts[`device:${m.metric}`] = drawMetric(dom, m);
  }
  if (series.metrics.length === 0) grid.append(h('p', { className: 'muted', text: 'No readings in this range.' }));

  root.append(
    card('Alerts', alertsTable(alerts.alerts)),
    card('Quarantined rows', quarantineTable(quarantine.rows)),
  );
}

function fact(label, value) {
  return h('div', { className: 'fact' }, [h('div', { className: 'fact-label', text: label }), h('div', { className: 'fact-value', text: value })]);
}

function drawMetric(dom, m) {
  const chart = chartIn(dom);
  const points = m.points;
  // The band spans the readings and the marks (a silent device's mark comes after its last reading).
  const times = points.map((p) => p[0]).concat(m.anomalies.map((a) => a.ms));
  const t0 = times.length ? times.reduce((a, b) => Math.min(a, b)) : null;
  const t1 = times.length ? times.reduce((a, b) => Math.max(a, b)) : null;
  const series = [{
    name: 'value',
    type: 'line',
    showSymbol: false,
    symbolSize: 4,
    lineStyle: { width: 1.5, color: colors.primary },
    itemStyle: { color: colors.primary },
    connectNulls: false,
    data: points,
    z: 2,
  }];
  if (m.band && t0 !== null) {
    const b = m.band;
    series.push({
      name: 'band_lo', type: 'line', showSymbol: false, silent: true,
      lineStyle: { type: 'dashed', width: 1, color: colors.bandLine }, data: [[t0, b.lo], [t1, b.lo]], z: 1,
    });
    series.push({
      name: 'band_hi', type: 'line', showSymbol: false, silent: true,
      lineStyle: { type: 'dashed', width: 1, color: colors.bandLine }, data: [[t0, b.hi], [t1, b.hi]], z: 1,
      markArea: { silent: true, itemStyle: { color: colors.band }, data: [[{ yAxis: b.lo }, { yAxis: b.hi }]] },
    });
  }
  series.push({
    name: 'anomalies',
    type: 'scatter',
    symbol: 'circle',
    symbolSize: 9,
    itemStyle: { color: colors.anomaly, borderColor: '#fff', borderWidth: 1 },
    // An anomaly without a value (a silent device: no data for too long) sits on the last value
    // before it, drawn hollow.
    data: m.anomalies.map((a) => (a.value === null || a.value === undefined
      ? { value: [a.ms, valueBefore(points, a.ms, m.band)], anomaly: a, symbol: 'emptyCircle', itemStyle: { color: colors.anomaly, borderColor: colors.anomaly, borderWidth: 2 } }
      : { value: [a.ms, a.value], anomaly: a })),
    z: 3,
  });
  chart.setOption({
    animation: false,
    grid: { left: 56, right: 16, top: 12, bottom: 48 },
    tooltip: {
      ...tooltipBase,
      trigger: 'item',
      formatter: (p) => (p.seriesName === 'anomalies' ? anomalyTip(m.metric, p.data.anomaly) : tip(m.metric, [['time', iso(p.value[0])], ['value', fmtNum(p.value[1])]])),
    },
    xAxis: { type: 'time', ...axisCommon, splitLine: { show: false } },
    yAxis: { type: 'value', scale: true, ...axisCommon },
    dataZoom: [{ type: 'inside' }],
    series,
  }, { notMerge: true });
  return chart;
}

function valueBefore(points, ms, band) {
  let v = null;
  for (const [t, x] of points) {
    if (t > ms) break;
    if (x !== null) v = x;
  }
  if (v === null && points.length) v = points.find((p) => p[1] !== null)?.[1] ?? null;
  if (v === null && band) v = band.mean;
  return v ?? 0;
}

function iso(ms) {
  return fmtTime(new Date(ms).toISOString().replace('.000Z', 'Z'));
}

function anomalyTip(metric, a) {
  const range = a.expected_lo !== null && a.expected_lo !== undefined ? `${fmtNum(a.expected_lo)} … ${fmtNum(a.expected_hi)}` : '–';
  const baseline = a.baseline_mean !== null && a.baseline_mean !== undefined
    ? `mean ${fmtNum(a.baseline_mean)}, std ${fmtNum(a.baseline_std)}, n ${fmtInt(a.baseline_n)}` : '–';
  const lines = [
    ['time', fmtTime(a.event_time)],
    ['value', a.value === null || a.value === undefined ? 'no reading' : fmtNum(a.value)],
    ['expected', fmtNum(a.expected)],
    ['expected range', range],
    ['baseline', baseline],
  ];
  if (a.z !== null && a.z !== undefined) lines.push(['z', fmtNum(a.z)]);
  lines.push(['score', fmtNum(a.score)]);
  if (a.statistic !== null && a.statistic !== undefined && a.statistic_name !== 'z') lines.push([a.statistic_name || 'statistic', fmtNum(a.statistic)]);
  lines.push(['threshold', fmtNum(a.threshold)], ['detector', a.detector], ['rule', a.rule || '–'], ['explanation', a.explanation || '–']);
  return tip(`Anomaly · ${metric}`, lines);
}

export function alertsTable(alerts) {
  return table('device-alerts', [
    { label: 'Alert', value: (a) => a.id },
    { label: 'Rule', value: (a) => a.rule },
    { label: 'Severity', value: (a) => badge(a.severity, a.severity === 'critical' ? 'bad' : 'warn') },
    { label: 'State', value: (a) => badge(alertState(a), alertState(a) === 'open' ? 'bad' : 'neutral') },
    { label: 'Started', value: (a) => fmtTime(a.starts_at) },
    { label: 'Anomalies', value: (a) => fmtInt(a.anomalies), className: 'num' },
    { label: 'Summary', value: (a) => a.summary },
  ], alerts, (a) => ({ dataset: { alertId: a.id } }));
}

export function alertState(a) {
  if (a.dead) return 'dead';
  if (a.status === 'resolved') return 'resolved';
  if (a.silenced) return 'silenced';
  if (a.acknowledged) return 'acknowledged';
  return 'open';
}

function quarantineTable(rows) {
  return table('device-quarantine', [
    { label: 'Reason', value: (r) => r.reason },
    { label: 'Column', value: (r) => r.column_name },
    { label: 'Detail', value: (r) => r.detail },
    { label: 'File', value: (r) => r.source_file, className: 'mono' },
    { label: 'Line', value: (r) => fmtInt(r.line), className: 'num' },
    { label: 'Raw', value: (r) => r.raw, className: 'mono' },
  ], rows);
}

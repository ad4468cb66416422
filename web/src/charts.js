// ECharts, only the parts the dashboard draws, and the helpers its views share. Tooltips are
// built from encoded text (echarts.format.encodeHTML) with class names only, no style
// attributes, so they pass the server's Content-Security-Policy.
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, MarkAreaComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, HeatmapChart, LineChart, ScatterChart, DataZoomComponent, GridComponent, MarkAreaComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

export { echarts };

export const colors = {
  primary: '#2563eb',
  anomaly: '#dc2626',
  band: 'rgba(37, 99, 235, 0.10)',
  bandLine: 'rgba(37, 99, 235, 0.45)',
  grid: '#e5e7eb',
  text: '#374151',
  muted: '#6b7280',
};

export const enc = (v) => echarts.format.encodeHTML(v === null || v === undefined ? '–' : String(v));

/** Tooltip HTML: a title and label/value lines, every piece encoded. */
export function tip(title, lines) {
  const rows = lines
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<div class="tt-row"><span class="tt-key">${enc(k)}</span><span class="tt-val">${enc(v)}</span></div>`)
    .join('');
  return `<div class="tt"><div class="tt-title">${enc(title)}</div>${rows}</div>`;
}

export const tooltipBase = {
  confine: true,
  className: 'iotad-tooltip',
  backgroundColor: '#ffffff',
  borderColor: '#d1d5db',
  textStyle: { color: colors.text, fontSize: 12 },
  extraCssText: '',
};

export const axisCommon = {
  axisLine: { lineStyle: { color: colors.grid } },
  axisLabel: { color: colors.muted, fontSize: 11 },
  splitLine: { lineStyle: { color: colors.grid } },
};

/** The chart in `dom`, created once; resized whenever its box changes (layout, window). */
export function chartIn(dom) {
  let chart = echarts.getInstanceByDom(dom);
  if (!chart) {
    chart = echarts.init(dom, null, { renderer: 'canvas' });
    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (!chart.isDisposed()) chart.resize();
      });
    });
    observer.observe(dom);
    observers.set(chart, observer);
  }
  return chart;
}
const observers = new Map();
export function disposeChart(chart) {
  observers.get(chart)?.disconnect();
  observers.delete(chart);
  if (!chart.isDisposed()) chart.dispose();
}

/**
 * Small server-rendered SVG charts for the console (no script, no inline style: the CSP allows neither). Each chart
 * is an <svg role="img"> with a title; the page shows the same numbers in a table beside it.
 */

export interface Series {
  label: string;
  /** A class of app.css (`chart-ok`, `chart-bad`, `chart-idle`, `chart-accent`) that colours the series. */
  tone: string;
  values: number[];
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const W = 640;
const H = 180;
const PAD = { left: 36, right: 8, top: 10, bottom: 26 };

/** A round upper bound for the axis (1, 2, 5 × 10^n), at least 1. */
export function niceMax(value: number): number {
  if (value <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].map((m) => m * p).find((m) => m >= value) ?? 10 * p) as number;
}

function frame(title: string, body: string, max: number, labels: string[], testid: string): string {
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  const grid = [0, max / 2, max]
    .map((v) => `<line class="chart-grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}"/><text class="chart-axis" x="${PAD.left - 4}" y="${y(v) + 4}" text-anchor="end">${Number.isInteger(v) ? v : v.toFixed(1)}</text>`)
    .join('');
  // Every label would crowd a month: the first, the last and a few between.
  const step = Math.max(1, Math.ceil(labels.length / 7));
  const slot = (W - PAD.left - PAD.right) / Math.max(1, labels.length);
  const ticks = labels
    .map((l, i) => (i % step === 0 || i === labels.length - 1 ? `<text class="chart-axis" x="${PAD.left + slot * (i + 0.5)}" y="${H - 8}" text-anchor="middle">${esc(l)}</text>` : ''))
    .join('');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${testid}-t" data-testid="${testid}"><title id="${testid}-t">${esc(title)}</title>${grid}${body}${ticks}</svg>`;
}

/** Stacked bars, one per label (e.g. a day), one segment per series. */
export function stackedBars(title: string, labels: string[], series: Series[], testid: string): string {
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const slot = (W - PAD.left - PAD.right) / Math.max(1, labels.length);
  const scale = (H - PAD.top - PAD.bottom) / max;
  let bars = '';
  labels.forEach((label, i) => {
    let base = H - PAD.bottom;
    for (const s of series) {
      const v = s.values[i] ?? 0;
      if (v <= 0) continue;
      const h = v * scale;
      base -= h;
      bars += `<rect class="${s.tone}" x="${(PAD.left + slot * i + slot * 0.15).toFixed(1)}" y="${base.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}"><title>${esc(`${label}: ${s.label} ${v}`)}</title></rect>`;
    }
  });
  return frame(title, bars, max, labels, testid);
}

/** One small bar strip per row on a shared scale, so that a row that suddenly rises stands out. */
export function sparkline(title: string, values: number[], max: number, tone: string): string {
  const w = 168;
  const h = 28;
  const slot = w / Math.max(1, values.length);
  const bars = values
    .map((v, i) => (v > 0 ? `<rect class="${tone}" x="${(slot * i + slot * 0.1).toFixed(1)}" y="${(h - (h * v) / max).toFixed(1)}" width="${(slot * 0.8).toFixed(1)}" height="${((h * v) / max).toFixed(1)}"/>` : ''))
    .join('');
  return `<svg class="sparkline" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(title)}"><line class="chart-grid" x1="0" x2="${w}" y1="${h - 0.5}" y2="${h - 0.5}"/>${bars}</svg>`;
}

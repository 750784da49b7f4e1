import type { MetricsSample } from '../metrics/collector.js'
import { html, type SafeHtml } from './html.js'

export interface ChartOptions {
  width?: number
  height?: number
  /** Accessible name of the chart. */
  title?: string
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 19)
}

/**
 * Sessions over time as an inline SVG line chart (total and active), drawn on the server: no
 * script, no external request. The same numbers are given as a table for screen readers.
 */
export function sessionsChart(points: readonly MetricsSample[], options: ChartOptions = {}): SafeHtml {
  const width = options.width ?? 960
  const height = options.height ?? 220
  const title = options.title ?? 'Sessions over time'
  const pad = { left: 40, right: 12, top: 12, bottom: 28 }
  const innerW = width - pad.left - pad.right
  const innerH = height - pad.top - pad.bottom
  const max = Math.max(1, ...points.map((point) => point.total))
  const top = max <= 4 ? max : Math.ceil(max / 4) * 4
  const first = points[0]?.at ?? 0
  const span = Math.max(1, (points.at(-1)?.at ?? 0) - first)
  const x = (at: number): number => (points.length === 1 ? pad.left + innerW : pad.left + ((at - first) / span) * innerW)
  const y = (value: number): number => pad.top + innerH - (value / top) * innerH
  const line = (pick: (point: MetricsSample) => number): string =>
    points.map((point, i) => `${i === 0 ? 'M' : 'L'}${x(point.at).toFixed(1)},${y(pick(point)).toFixed(1)}`).join(' ')
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(top * f)).filter((v, i, all) => all.indexOf(v) === i)
  const area =
    points.length > 0 ? `${line((p) => p.total)} L${x(points.at(-1)!.at).toFixed(1)},${y(0)} L${x(first).toFixed(1)},${y(0)} Z` : ''
  return html`<figure class="chart">
  <svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title chart-desc">
    <title id="chart-title">${title}</title>
    <desc id="chart-desc">${points.length === 0 ? 'No samples yet.' : `${points.length} samples from ${clock(first)} to ${clock(points.at(-1)!.at)} UTC; latest ${points.at(-1)!.total} total, ${points.at(-1)!.active} active.`}</desc>
    ${ticks.map((tick) => html`<line class="grid" x1="${pad.left}" x2="${width - pad.right}" y1="${y(tick)}" y2="${y(tick)}"/><text class="axis" x="${pad.left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick}</text>`)}
    ${points.length > 0 ? html`<path class="area" d="${area}"/><path class="line total" d="${line((p) => p.total)}"/><path class="line active" d="${line((p) => p.active)}"/><circle class="dot total" cx="${x(points.at(-1)!.at)}" cy="${y(points.at(-1)!.total)}" r="4"/><circle class="dot active" cx="${x(points.at(-1)!.at)}" cy="${y(points.at(-1)!.active)}" r="3"/>` : html`<text class="axis" x="${width / 2}" y="${height / 2}" text-anchor="middle">Waiting for the first sample…</text>`}
    ${points.length > 0 ? html`<text class="axis" x="${pad.left}" y="${height - 8}">${clock(first)}</text><text class="axis" x="${width - pad.right}" y="${height - 8}" text-anchor="end">${clock(points.at(-1)!.at)} UTC</text>` : ''}
  </svg>
  <figcaption><span class="key total">Total</span> <span class="key active">Active</span></figcaption>
  <table class="visually-hidden">
    <caption>${title}</caption>
    <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Total</th><th scope="col">Active</th></tr></thead>
    <tbody>${points.map((point) => html`<tr><td>${clock(point.at)}</td><td>${point.total}</td><td>${point.active}</td></tr>`)}</tbody>
  </table>
</figure>`
}

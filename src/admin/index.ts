/**
 * `tessera/admin`: server-rendered pieces for a session admin page, built on the framework-neutral
 * `manager.metrics()`: the dashboard content, an inline SVG chart, and the escaping `html` template.
 */
export { renderDashboard, formatDuration } from './dashboard.js'
export type { DashboardOptions } from './dashboard.js'
export { sessionsChart } from './chart.js'
export type { ChartOptions } from './chart.js'
export { html, raw, escapeHtml, SafeHtml } from './html.js'

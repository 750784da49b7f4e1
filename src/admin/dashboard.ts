import type { SessionMetrics } from '../metrics/collector.js'
import { sessionsChart } from './chart.js'
import { html, type SafeHtml } from './html.js'

export interface DashboardOptions {
  /** The CSRF token every form carries (field `_csrf`). */
  csrfToken: string
  /** Where the revoke form posts. Default `/admin/revoke`. */
  revokeAction?: string
}

/** "3 h 12 min", "45 s", "0 s": a duration for people. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours} h ${minutes % 60} min`
  return `${Math.floor(hours / 24)} d`
}

function card(label: string, value: string | number, note: string, id: string): SafeHtml {
  return html`<li class="card"><p class="card-label" id="${id}-label">${label}</p><p class="card-value" aria-labelledby="${id}-label" data-metric="${id}">${value}</p><p class="card-note">${note}</p></li>`
}

/**
 * The admin dashboard's content from a {@link SessionMetrics} snapshot: cards, the sessions chart,
 * sessions by user with a CSRF-protected revoke button, store latency and error counts. Plain
 * server-rendered HTML; the host page supplies the layout and styles.
 */
export function renderDashboard(metrics: SessionMetrics, options: DashboardOptions): SafeHtml {
  const { sessions, counts, errors } = metrics
  const revokeAction = options.revokeAction ?? '/admin/revoke'
  const windowText = formatDuration(sessions.activeWindowMs)
  const points = [...metrics.series.points, { at: metrics.at, total: sessions.total, active: sessions.active }]
  const drivers = Object.entries(metrics.drivers)
  const errorTotal = errors.store + errors.rateLimited + errors.bindingMismatches + errors.rememberMeThefts + errors.invalidData
  return html`<section aria-labelledby="overview-heading">
  <h2 id="overview-heading">Overview</h2>
  <ul class="cards" role="list">
    ${card('Total sessions', sessions.total, 'live sessions this process knows of', 'total')}
    ${card('Active sessions', sessions.active, `seen in the last ${windowText}`, 'active')}
    ${card('Unique users', sessions.uniqueUsers, 'signed-in users with a session', 'users')}
    ${card('Average session length', formatDuration(sessions.averageLengthMs), 'mean age of live sessions', 'length')}
    ${card('Created', counts.created, `${counts.regenerated} regenerated · ${counts.destroyed} ended`, 'created')}
    ${card('Errors', errorTotal, `${errors.store} store · ${errors.rateLimited} rate-limited`, 'errors')}
  </ul>
</section>
<section aria-labelledby="chart-heading">
  <h2 id="chart-heading">Sessions over time</h2>
  ${sessionsChart(points, { title: `Total and active sessions, one sample every ${formatDuration(metrics.series.intervalMs)}` })}
</section>
<div class="columns">
<section aria-labelledby="users-heading">
  <h2 id="users-heading">Sessions by user</h2>
  ${
    metrics.sessionsByUser.length === 0
      ? html`<p class="empty">No signed-in users yet.</p>`
      : html`<div class="table-wrap"><table class="data">
    <thead><tr><th scope="col">User</th><th scope="col" class="num">Sessions</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
    <tbody>${metrics.sessionsByUser.map(
      (row) => html`<tr><th scope="row">${row.userId}</th><td class="num">${row.sessions}</td><td class="action">
      <form method="post" action="${revokeAction}"><input type="hidden" name="_csrf" value="${options.csrfToken}"><input type="hidden" name="userId" value="${row.userId}">
      <button type="submit" class="button danger small" aria-label="Revoke all sessions of ${row.userId}">Revoke</button></form></td></tr>`,
    )}</tbody>
  </table></div>`
  }
</section>
<section aria-labelledby="latency-heading">
  <h2 id="latency-heading">Store latency</h2>
  ${
    drivers.length === 0
      ? html`<p class="empty">No store calls yet.</p>`
      : html`<div class="table-wrap"><table class="data">
    <thead><tr><th scope="col">Driver</th><th scope="col" class="num">Calls</th><th scope="col" class="num">p50</th><th scope="col" class="num">p95</th><th scope="col" class="num">p99</th><th scope="col" class="num">Errors</th></tr></thead>
    <tbody>${drivers.map(
      ([name, stats]) =>
        html`<tr><th scope="row">${name}</th><td class="num">${stats.calls}</td><td class="num">${stats.p50Ms} ms</td><td class="num">${stats.p95Ms} ms</td><td class="num">${stats.p99Ms} ms</td><td class="num">${stats.errors + stats.timeouts}</td></tr>`,
    )}</tbody>
  </table></div>`
  }
  <h3>Lifecycle and security</h3>
  <dl class="facts">
    <div><dt>Invalidated (logouts)</dt><dd>${counts.invalidated}</dd></div>
    <div><dt>Expired on load</dt><dd>${counts.expired}</dd></div>
    <div><dt>Removed by gc</dt><dd>${counts.gcRemoved}</dd></div>
    <div><dt>Store timeouts</dt><dd>${errors.storeTimeouts}</dd></div>
    <div><dt>Binding mismatches</dt><dd>${errors.bindingMismatches}</dd></div>
    <div><dt>Remember-me thefts</dt><dd>${errors.rememberMeThefts}</dd></div>
  </dl>
</section>
</div>
<p class="fine-print">Counted by this process since ${new Date(metrics.since).toISOString().replace('T', ' ').slice(0, 19)} UTC, without reading the store.${sessions.untracked > 0 ? ` ${sessions.untracked} sessions were beyond the tracking limit.` : ''}</p>`
}

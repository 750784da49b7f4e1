import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { sessionsChart } from '../../../src/admin/chart.js'
import { renderDashboard } from '../../../src/admin/dashboard.js'
import { escapeHtml, html, raw } from '../../../src/admin/html.js'
import { SessionManager } from '../../../src/index.js'

function unescape(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
}

describe('html template', () => {
  it('escapes every interpolated string so it cannot open a tag or leave an attribute (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const out = html`<p title="${text}">${text}</p>`.value
        const inner = out.slice('<p title="'.length, -'</p>'.length)
        assert.doesNotMatch(inner.replace('">', ''), /[<>"']/)
        assert.equal(unescape(escapeHtml(text)), text)
      }),
    )
  })

  it('nests html output and arrays unescaped, drops null/undefined/false, keeps raw', () => {
    const items = ['<a>', 'b']
    assert.equal(html`<ul>${items.map((item) => html`<li>${item}</li>`)}</ul>`.value, '<ul><li>&lt;a&gt;</li><li>b</li></ul>')
    assert.equal(html`${null}${undefined}${false}${0}${raw('<br>')}`.value, '0<br>')
  })
})

describe('admin dashboard', () => {
  it('renders cards, chart and a CSRF-protected revoke form per user, with user ids escaped', async () => {
    const manager = new SessionManager({ keys: ['k'.repeat(32)] })
    await manager.users.create('<script>x</script>')
    const page = renderDashboard(manager.metrics({ topUsers: 5 }), { csrfToken: 'tok"en' }).value
    assert.match(page, /data-metric="total">1</)
    assert.match(page, /data-metric="users">1</)
    assert.match(page, /<svg [^>]*role="img"/)
    assert.ok(page.includes('&lt;script&gt;x&lt;/script&gt;'))
    assert.ok(!page.includes('<script>x'))
    assert.match(page, /<form method="post" action="\/admin\/revoke"><input type="hidden" name="_csrf" value="tok&quot;en">/)
    await manager.close()
  })

  it('the chart has an accessible name and a data table with every sample', () => {
    const points = [0, 1, 2].map((i) => ({ at: Date.UTC(2026, 0, 1, 12, 0, i * 10), total: i * 2, active: i }))
    const chart = sessionsChart(points, { title: 'Sessions' }).value
    assert.match(chart, /<title id="chart-title">Sessions<\/title>/)
    assert.equal(chart.match(/<tr><td>/g)?.length, 3)
    assert.match(chart, /<td>12:00:20<\/td><td>4<\/td><td>2<\/td>/)
  })
})

// Refreshes the admin cards every 10 seconds from /admin/metrics.json (progressive enhancement:
// the page is complete without it). No build step, no dependencies.
;(() => {
  const cards = document.querySelectorAll('[data-metric]')
  if (cards.length === 0) return
  const duration = (ms) => {
    const s = Math.round(ms / 1000)
    if (s < 60) return `${s} s`
    const m = Math.floor(s / 60)
    if (m < 60) return `${m} min`
    const h = Math.floor(m / 60)
    return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d`
  }
  const pick = {
    total: (m) => m.sessions.total,
    active: (m) => m.sessions.active,
    users: (m) => m.sessions.uniqueUsers,
    length: (m) => duration(m.sessions.averageLengthMs),
    created: (m) => m.counts.created,
    errors: (m) => m.errors.store + m.errors.rateLimited + m.errors.bindingMismatches + m.errors.rememberMeThefts + m.errors.invalidData,
  }
  async function refresh() {
    try {
      const response = await fetch('/admin/metrics.json', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      if (!response.ok) return
      const metrics = await response.json()
      for (const card of cards) {
        const value = pick[card.dataset.metric]
        if (value) card.textContent = String(value(metrics))
      }
    } catch {
      // Offline or signed out: keep the numbers on the page.
    }
  }
  setInterval(refresh, 10_000)
})()

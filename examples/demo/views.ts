import { html, type SafeHtml } from 'tessera/admin'
import type { ListedSession } from 'tessera'
import { ago, deviceName } from './devices.js'

export interface Flash {
  kind: 'success' | 'error' | 'info'
  text: string
}

interface LayoutOptions {
  title: string
  /** The signed-in user, for the header; undefined on public pages. */
  user?: string | undefined
  csrfToken?: string | undefined
  current?: 'dashboard' | 'devices' | 'admin'
  flash?: Flash | undefined
  /** The admin area has its own navigation. */
  area?: 'user' | 'admin'
  scripts?: readonly string[]
}

function flashBox(flash: Flash | undefined): SafeHtml | '' {
  if (!flash) return ''
  const role = flash.kind === 'error' ? 'alert' : 'status'
  return html`<div class="flash flash-${flash.kind}" role="${role}" data-testid="flash">${flash.text}</div>`
}

export function layout(body: SafeHtml, options: LayoutOptions): string {
  const area = options.area ?? 'user'
  const link = (href: string, label: string, key: LayoutOptions['current']) =>
    html`<a href="${href}"${options.current === key ? html` aria-current="page"` : ''}>${label}</a>`
  const nav =
    area === 'admin'
      ? options.user
        ? html`<nav aria-label="Admin"><ul role="list">
            <li>${link('/admin', 'Dashboard', 'admin')}</li>
            <li><form method="post" action="/admin/logout"><input type="hidden" name="_csrf" value="${options.csrfToken}"><button type="submit" class="link-button">Sign out</button></form></li>
          </ul></nav>`
        : ''
      : options.user
        ? html`<nav aria-label="Main"><ul role="list">
            <li>${link('/', 'Dashboard', 'dashboard')}</li>
            <li>${link('/devices', 'Your devices', 'devices')}</li>
            <li><form method="post" action="/logout"><input type="hidden" name="_csrf" value="${options.csrfToken}"><button type="submit" class="link-button">Sign out</button></form></li>
          </ul></nav>`
        : ''
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Tessera demo</title>
<link rel="stylesheet" href="/assets/style.css">
<link rel="icon" href="data:,">
</head>
<body class="area-${area}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <div class="bar">
    <a class="brand" href="${area === 'admin' ? '/admin' : '/'}"><span class="logo" aria-hidden="true"></span>Tessera<span class="brand-sub">${area === 'admin' ? 'admin' : 'demo'}</span></a>
    ${nav}
  </div>
</header>
<main id="main" tabindex="-1">
  <div class="container">
  ${flashBox(options.flash)}
  ${body}
  </div>
</main>
<footer class="site-footer"><div class="container">${options.user ? html`Signed in as <strong>${options.user}</strong> · ` : ''}Sessions by Tessera · demo app, not for production</div></footer>
${(options.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</body>
</html>`.value
}

export function loginPage(csrfToken: string, options: { username?: string | undefined; flash?: Flash | undefined }): string {
  const body = html`<div class="auth">
  <section class="panel" aria-labelledby="signin-heading">
    <h1 id="signin-heading">Sign in</h1>
    <p class="lead">Any username works; the password is <kbd>demo</kbd>.</p>
    <form method="post" action="/login" class="stack">
      <input type="hidden" name="_csrf" value="${csrfToken}">
      <div class="field">
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required maxlength="40" value="${options.username ?? ''}" autofocus>
      </div>
      <div class="field">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required>
      </div>
      <div class="check">
        <input id="remember" name="remember" type="checkbox" value="1">
        <label for="remember">Remember me on this device for 30 days</label>
      </div>
      <button type="submit" class="button primary">Sign in</button>
    </form>
  </section>
  <aside class="panel muted" aria-labelledby="about-heading">
    <h2 id="about-heading">What this shows</h2>
    <ul>
      <li>A new session id at sign-in (no session fixation).</li>
      <li>A visit counter and flash messages kept in the session store.</li>
      <li>Every device you sign in from, with revoke and “sign out everywhere”.</li>
      <li>CSRF tokens on every form; cross-site posts are refused.</li>
    </ul>
  </aside>
</div>`
  return layout(body, { title: 'Sign in', flash: options.flash })
}

export function dashboardPage(input: {
  user: string
  csrfToken: string
  visits: number
  notes: readonly string[]
  flash: Flash | undefined
  sessionStartedAt: number | undefined
  driver: string
}): string {
  const body = html`<h1>Hello, ${input.user}</h1>
<div class="grid">
  <section class="panel counter" aria-labelledby="visits-heading">
    <h2 id="visits-heading">Visits this session</h2>
    <p class="big-number" data-testid="visits">${input.visits}</p>
    <p class="muted-text">Reload the page and the counter rises: it lives in the <strong>${input.driver}</strong> session store${input.sessionStartedAt ? html`, in a session started ${ago(input.sessionStartedAt)}` : ''}.</p>
  </section>
  <section class="panel" aria-labelledby="note-heading">
    <h2 id="note-heading">Save a note</h2>
    <form method="post" action="/notes" class="stack">
      <input type="hidden" name="_csrf" value="${input.csrfToken}">
      <div class="field">
        <label for="note">Note</label>
        <input id="note" name="note" required maxlength="200" placeholder="Buy milk">
      </div>
      <button type="submit" class="button primary">Save note</button>
    </form>
    <p class="muted-text">After saving you get a flash message: shown once, gone on the next page.</p>
  </section>
</div>
<section class="panel" aria-labelledby="notes-heading">
  <h2 id="notes-heading">Your notes</h2>
  ${input.notes.length === 0 ? html`<p class="empty">No notes yet.</p>` : html`<ol class="notes" data-testid="notes">${input.notes.map((note) => html`<li>${note}</li>`)}</ol>`}
</section>`
  return layout(body, { title: 'Dashboard', user: input.user, csrfToken: input.csrfToken, current: 'dashboard', flash: input.flash })
}

export function devicesPage(input: {
  user: string
  csrfToken: string
  sessions: readonly ListedSession[]
  currentKey: string
  flash: Flash | undefined
}): string {
  const rows = input.sessions.map((s) => {
    const current = s.key === input.currentKey
    const name = s.deviceName ?? deviceName(s.userAgent)
    return html`<li class="device${current ? ' current' : ''}" data-testid="device">
      <div class="device-main">
        <p class="device-name">${name}${current ? html` <span class="badge">This device</span>` : ''}</p>
        <p class="device-meta">IP ${s.ip ?? 'unknown'} · last active <time datetime="${new Date(s.lastActiveAt).toISOString()}">${ago(s.lastActiveAt)}</time> · signed in <time datetime="${new Date(s.createdAt).toISOString()}">${ago(s.createdAt)}</time></p>
      </div>
      ${
        current
          ? ''
          : html`<form method="post" action="/devices/revoke">
        <input type="hidden" name="_csrf" value="${input.csrfToken}"><input type="hidden" name="key" value="${s.key}">
        <button type="submit" class="button danger" aria-label="Sign out ${name} (${s.ip ?? 'unknown IP'})">Sign out</button>
      </form>`
      }
    </li>`
  })
  const body = html`<h1>Your devices</h1>
<p class="lead">Every place you are signed in as <strong>${input.user}</strong>. Sign out a device you don’t recognise.</p>
<section class="panel" aria-labelledby="devices-heading">
  <h2 id="devices-heading" class="visually-hidden">Signed-in devices</h2>
  <p class="count" data-testid="device-count">${input.sessions.length} ${input.sessions.length === 1 ? 'device' : 'devices'}</p>
  <ul class="devices" role="list">${rows}</ul>
</section>
<section class="panel danger-zone" aria-labelledby="everywhere-heading">
  <h2 id="everywhere-heading">Sign out everywhere</h2>
  <p>Ends every session of this account, this one included, and forgets “remember me” on all devices.</p>
  <form method="post" action="/devices/revoke-all">
    <input type="hidden" name="_csrf" value="${input.csrfToken}">
    <button type="submit" class="button danger">Sign out everywhere</button>
  </form>
</section>`
  return layout(body, { title: 'Your devices', user: input.user, csrfToken: input.csrfToken, current: 'devices', flash: input.flash })
}

export function errorPage(status: number, title: string, text: string, home = '/'): string {
  const body = html`<section class="panel error-panel" aria-labelledby="error-heading">
  <p class="status-code">${status}</p>
  <h1 id="error-heading">${title}</h1>
  <p>${text}</p>
  <p><a class="button" href="${home}">Back to the start</a></p>
</section>`
  return layout(body, { title })
}

import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

// Drives the demo app (`npm start`) in Debian's Chromium. Locally the suite skips when Chromium
// is missing; in CI (CI=true) it fails, so a missing browser can never pass silently.
const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-gpu',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
]
const ROOT = join(import.meta.dirname, '..', '..')
const SHOTS = join(import.meta.dirname, 'screenshots')
const FIREFOX_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0'
const available = existsSync(CHROMIUM)
const skip = available ? false : 'Chromium is not installed (apt-get install -y chromium)'

if (!available && process.env.CI) {
  describe('demo in a real browser', () => {
    it('needs Chromium at /usr/bin/chromium', () => {
      assert.fail('CI=true but /usr/bin/chromium is missing: install it (apt-get install -y chromium); .ci/run does.')
    })
  })
} else {
  describe('demo in a real browser', { skip }, () => {
    let server: ChildProcess
    let base = ''
    let browser: Browser
    let dataDir = ''
    const contexts: BrowserContext[] = []

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'))
      mkdirSync(SHOTS, { recursive: true })
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        SESSION_DB: join(dataDir, 'sessions.db'),
        METRICS_INTERVAL: '500ms',
      }
      for (const name of ['SESSION_DRIVER', 'SESSION_KEY', 'ADMIN_PASSWORD']) delete env[name]
      server = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/server.ts'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      base = await new Promise<string>((resolve, reject) => {
        let output = ''
        const onData = (chunk: Buffer) => {
          output += chunk.toString()
          const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
          if (match) resolve(match[1] as string)
        }
        server.stdout?.on('data', onData)
        server.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()))
        server.once('exit', (code) => reject(new Error(`demo server exited with ${code}:\n${output}`)))
        setTimeout(() => reject(new Error(`demo server did not start:\n${output}`)), 20_000).unref()
      })
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
    })

    after(async () => {
      await browser?.close()
      server?.kill('SIGTERM')
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    })

    async function device(options: { userAgent?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
      const context = await browser.newContext({ viewport: { width: 1100, height: 820 }, ...options })
      context.setDefaultTimeout(10_000)
      contexts.push(context)
      return { context, page: await context.newPage() }
    }

    async function signIn(page: Page, username: string, remember = false): Promise<void> {
      await page.goto(`${base}/login`)
      await page.getByLabel('Username').fill(username)
      await page.getByLabel('Password').fill('demo')
      if (remember) await page.getByLabel(/Remember me/).check()
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(`${base}/`)
    }

    const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
    const visits = async (page: Page) => Number(await page.getByTestId('visits').textContent())

    let laptop: Page
    let phone: Page

    it('signs in on a fresh session: every form carries a CSRF token', async () => {
      ;({ page: laptop } = await device())
      await laptop.goto(base)
      assert.equal(laptop.url(), `${base}/login`, 'signed-out visitors are sent to the sign-in page')
      assert.equal(await laptop.locator('form input[name="_csrf"]').count(), await laptop.locator('form').count())
      await shot(laptop, 'login')
      await signIn(laptop, 'alice')
      assert.match((await laptop.getByTestId('flash').textContent()) ?? '', /Welcome, alice/)
    })

    it('the visit counter rises and a flash message shows exactly once', async () => {
      const first = await visits(laptop)
      await laptop.reload()
      assert.equal(await visits(laptop), first + 1)
      assert.equal(await laptop.getByTestId('flash').count(), 0, 'the sign-in flash is gone on the next page')
      await laptop.getByLabel('Note', { exact: true }).fill('Buy <b>milk</b>')
      await laptop.getByRole('button', { name: 'Save note' }).click()
      await laptop.waitForURL(`${base}/`)
      assert.equal(await laptop.getByTestId('flash').textContent(), 'Note saved.')
      assert.equal(
        await laptop.getByTestId('notes').locator('li').first().textContent(),
        'Buy <b>milk</b>',
        'notes are escaped, not rendered as HTML',
      )
      await shot(laptop, 'dashboard')
      await laptop.reload()
      assert.equal(await laptop.getByTestId('flash').count(), 0)
      assert.equal(await visits(laptop), first + 3)
      assert.equal(await laptop.locator('form input[name="_csrf"]').count(), await laptop.locator('form').count())
    })

    it('a second device shows up in "your devices" and can be revoked', async () => {
      ;({ page: phone } = await device({ userAgent: FIREFOX_UA }))
      await signIn(phone, 'alice')
      await laptop.goto(`${base}/devices`)
      assert.equal(await laptop.getByTestId('device').count(), 2)
      assert.equal(await laptop.getByTestId('device-count').textContent(), '2 devices')
      const current = laptop.getByTestId('device').filter({ hasText: 'This device' })
      assert.equal(await current.count(), 1)
      assert.match((await current.textContent()) ?? '', /Headless Chrome on Linux/)
      assert.match((await laptop.getByTestId('device').filter({ hasText: 'Firefox on Windows' }).textContent()) ?? '', /IP 127\.0\.0\.1/)
      await shot(laptop, 'devices')
      await laptop.getByRole('button', { name: /Sign out Firefox on Windows/ }).click()
      await laptop.waitForURL(`${base}/devices`)
      assert.equal(await laptop.getByTestId('flash').textContent(), 'That device is signed out.')
      assert.equal(await laptop.getByTestId('device').count(), 1)
      await phone.goto(base)
      assert.equal(phone.url(), `${base}/login`, 'the revoked device lands on the sign-in page')
    })

    it('sign out everywhere ends every session, this one included', async () => {
      await signIn(phone, 'alice')
      await laptop.goto(`${base}/devices`)
      assert.equal(await laptop.getByTestId('device').count(), 2)
      await laptop.getByRole('button', { name: 'Sign out everywhere' }).click()
      await laptop.waitForURL(`${base}/login`)
      assert.match((await laptop.getByTestId('flash').textContent()) ?? '', /Signed out everywhere \(2 sessions ended\)/)
      for (const page of [laptop, phone]) {
        await page.goto(base)
        assert.equal(page.url(), `${base}/login`)
      }
    })

    it('remember me survives a browser restart without the session cookie', async () => {
      const { context, page } = await device()
      await signIn(page, 'carol', true)
      const cookies = await context.cookies()
      const rememberCookie = cookies.find((cookie) => cookie.name === 'tessera_remember')
      assert.ok(rememberCookie, 'a remember-me cookie was set')
      assert.ok(cookies.some((cookie) => cookie.name === 'tessera_demo'))
      await context.close()
      // A "restarted browser": only the long-lived remember-me cookie is left.
      const restarted = await device()
      await restarted.context.addCookies([rememberCookie])
      await restarted.page.goto(base)
      assert.equal(restarted.page.url(), `${base}/`)
      assert.equal(await restarted.page.getByRole('heading', { level: 1 }).textContent(), 'Hello, carol')
      const after = await restarted.context.cookies()
      assert.ok(
        after.some((cookie) => cookie.name === 'tessera_demo'),
        'a new session cookie was issued',
      )
      assert.notEqual(
        after.find((cookie) => cookie.name === 'tessera_remember')?.value,
        rememberCookie.value,
        'the remember-me token was rotated',
      )
      phone = restarted.page
    })

    it('refuses a cross-site form post (403)', async () => {
      const { context, page } = await device()
      await context.route('http://attacker.test/**', (route) =>
        route.fulfill({
          contentType: 'text/html',
          body: `<!doctype html><title>Win a prize</title><form id="f" method="post" action="${base}/notes"><input name="note" value="pwned"></form><script>document.getElementById('f').submit()</script>`,
        }),
      )
      const refused = page.waitForResponse((response) => response.url() === `${base}/notes` && response.request().method() === 'POST')
      await page.goto('http://attacker.test/')
      assert.equal((await refused).status(), 403)
      await page.waitForURL(`${base}/notes`)
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Request refused')
      await shot(page, 'refused')
      // Also when the victim is signed in: the note never lands.
      await phone.context().route('http://attacker.test/**', (route) =>
        route.fulfill({
          contentType: 'text/html',
          body: `<form id="f" method="post" action="${base}/notes"><input name="note" value="pwned"></form><script>f.submit()</script>`,
        }),
      )
      const refusedSignedIn = phone.waitForResponse((response) => response.url() === `${base}/notes`)
      await phone.goto('http://attacker.test/')
      assert.equal((await refusedSignedIn).status(), 403)
      await phone.goto(base)
      assert.equal(await phone.getByTestId('notes').count(), 0, 'no note was saved')
    })

    it('the admin dashboard is behind its own sign-in and can revoke a user', async () => {
      const { page } = await device()
      await page.goto(`${base}/admin`)
      assert.equal(page.url(), `${base}/admin/login`)
      await page.getByLabel('Admin password').fill('wrong')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(`${base}/admin/login`)
      assert.equal(await page.getByTestId('flash').textContent(), 'Wrong admin password.')
      await page.getByLabel('Admin password').fill('admin')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(`${base}/admin`)
      const card = (id: string) => page.locator(`[data-metric="${id}"]`).textContent()
      assert.ok(Number(await card('created')) >= 4, 'sessions created during this run are counted')
      assert.equal(await card('users'), '1', 'carol is the only signed-in user left')
      assert.equal(await page.locator('svg[role="img"] path.line.total').count(), 1, 'the sessions chart is drawn')
      assert.equal(await page.locator('form input[name="_csrf"]').count(), await page.locator('form').count())
      await shot(page, 'admin')
      await page.getByRole('button', { name: 'Revoke all sessions of carol' }).click()
      await page.waitForURL(`${base}/admin`)
      // Two: the session of the closed browser is still live server-side, plus the restored one.
      assert.equal(await page.getByTestId('flash').textContent(), 'Revoked 2 sessions of carol.')
      await phone.goto(base)
      assert.equal(phone.url(), `${base}/login`, "carol's session is gone")
      // A user session gives no access to /admin: it has its own cookie and sign-in.
      await phone.goto(`${base}/admin`)
      assert.equal(phone.url(), `${base}/admin/login`)
    })
  })
}

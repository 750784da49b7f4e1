/**
 * Side-by-side HTTP benchmark: `npm run bench` (all groups) or `npm run bench -- http|redis|seal`.
 * Each server runs in its own process; scenarios are interleaved over several rounds and the
 * median is reported. CPU µs per request comes from the server's /proc/<pid>/stat, the least
 * noisy figure on a shared machine. Settings: BENCH_SECONDS (default 3), BENCH_ROUNDS (default 3),
 * BENCH_CONNECTIONS (default 10), BENCH_ONLY (a substring of the scenario names to run).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { runSealBench } from './seal.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
const BENCH_REDIS_PORT = 6391

interface Scenario {
  name: string
  baseline: string
}

const GROUPS: Record<string, Scenario[]> = {
  http: [
    { name: 'express-bare', baseline: 'express-bare' },
    { name: 'express-empty-middleware', baseline: 'express-bare' },
    { name: 'express-tessera-memory', baseline: 'express-bare' },
    { name: 'express-session-memory', baseline: 'express-bare' },
    { name: 'express-tessera-cookie', baseline: 'express-bare' },
    { name: 'express-iron-session', baseline: 'express-bare' },
    { name: 'fastify-bare', baseline: 'fastify-bare' },
    { name: 'fastify-tessera-memory', baseline: 'fastify-bare' },
    { name: 'fastify-session', baseline: 'fastify-bare' },
  ],
  redis: [
    { name: 'express-bare', baseline: 'express-bare' },
    { name: 'express-tessera-redis', baseline: 'express-bare' },
    { name: 'express-session-redis', baseline: 'express-bare' },
  ],
}

interface Sample {
  rps: number
  cpuUs: number
  redisCommands?: number
  errors: number
}
type Route = 'read' | 'write' | 'new'

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/**
 * Round trips to Redis per request: MONITOR shows every command a client sends, and marks the
 * ones a Lua script runs inside the server ("lua"), which are not round trips. Counted in a
 * separate pass of sequential requests, so MONITOR's own cost does not touch the timed runs.
 */
async function redisRoundTrips(redisPort: number, port: number, path: string, cookie: string | undefined, requests = 100): Promise<number> {
  const monitor = spawn('redis-cli', ['-p', String(redisPort), 'MONITOR'], { stdio: ['ignore', 'pipe', 'ignore'] })
  let commands = 0
  const lines = createInterface({ input: monitor.stdout as NodeJS.ReadableStream })
  const ready = new Promise<void>((resolve) => lines.once('line', () => resolve()))
  lines.on('line', (line) => {
    if (/^\d+\.\d+ \[\d+ (?!lua)/.test(line) && !/"(?:monitor|info|ping|client|hello|select)"/i.test(line)) commands += 1
  })
  await ready
  for (let i = 0; i < requests; i++) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: cookie ? { cookie } : {} })
    await response.arrayBuffer()
  }
  await sleep(200)
  monitor.kill()
  return commands / requests
}

async function startServer(name: string, redisPort: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'server.ts')], {
    env: { ...process.env, SCENARIO: name, NODE_ENV: 'production', BENCH_REDIS_PORT: String(redisPort) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before listening`)))
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line)
      if (match) resolve(Number(match[1]))
    })
  })
  return { child, port }
}

async function login(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/login`)
  if (!response.ok) throw new Error(`login failed with ${response.status}`)
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ')
}

async function load(
  port: number,
  path: string,
  cookie: string | undefined,
  seconds: number,
): Promise<{ requests: number; rps: number; errors: number }> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: cookie ? { cookie } : {},
  })
  return { requests: result.requests.total, rps: result.requests.average, errors: result.non2xx + result.errors + result.timeouts }
}

async function measure(pid: number, port: number, route: Route, cookie: string, redisPort: number | undefined): Promise<Sample> {
  const path = route === 'new' ? '/login' : `/${route}`
  const sent = route === 'new' ? undefined : cookie
  const ticks = cpuTicks(pid)
  const result = await load(port, path, sent, SECONDS)
  const cpuUs = (((cpuTicks(pid) - ticks) / CLOCK_TICKS) * 1e6) / Math.max(result.requests, 1)
  const sample: Sample = { rps: result.rps, cpuUs, errors: result.errors }
  if (redisPort) sample.redisCommands = await redisRoundTrips(redisPort, port, path, sent)
  return sample
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

async function startBenchRedis(): Promise<{ stop: () => void; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-redis-'))
  const child = spawn(
    'redis-server',
    ['--port', String(BENCH_REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  )
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync('redis-cli', ['-p', String(BENCH_REDIS_PORT), 'PING'], { stdio: 'ignore' })
      break
    } catch {
      await sleep(100)
    }
  }
  return {
    port: BENCH_REDIS_PORT,
    stop: () => {
      child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function runGroup(group: string): Promise<void> {
  // BENCH_ONLY=fastify runs only the scenarios whose name contains it (and their baselines).
  const only = process.env.BENCH_ONLY
  const all = GROUPS[group] as Scenario[]
  const scenarios = only ? all.filter((s) => s.name.includes(only) || all.some((t) => t.name.includes(only) && t.baseline === s.name)) : all
  const routes: Route[] = group === 'redis' ? ['read', 'write', 'new'] : ['read', 'write']
  const redis = group === 'redis' ? await startBenchRedis() : undefined
  const samples = new Map<string, Sample[]>()
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order every round so no scenario always runs first (or last).
      const order = scenarios.map((_, i) => scenarios[(i + round) % scenarios.length] as Scenario)
      for (const scenario of order) {
        const { child, port } = await startServer(scenario.name, redis?.port ?? 6379)
        try {
          const cookie = await login(port)
          await load(port, '/read', cookie, 1) // warm-up: JIT, connection pools
          for (const route of routes) {
            const sample = await measure(child.pid as number, port, route, cookie, redis?.port)
            const key = `${scenario.name}:${route}`
            samples.set(key, [...(samples.get(key) ?? []), sample])
          }
        } finally {
          child.kill('SIGKILL')
        }
        process.stderr.write('.')
      }
    }
  } finally {
    redis?.stop()
  }
  process.stderr.write('\n')
  printTable(group, scenarios, routes, samples)
}

function printTable(group: string, scenarios: Scenario[], routes: Route[], samples: Map<string, Sample[]>): void {
  const stat = (name: string, route: Route, pick: (s: Sample) => number) => median((samples.get(`${name}:${route}`) ?? []).map(pick))
  const header = [
    'scenario',
    ...routes.flatMap((route) => [`${route} req/s`, 'ratio', 'CPU µs/req', ...(group === 'redis' ? ['round trips/req'] : [])]),
  ]
  const rows = scenarios.map((scenario) => [
    scenario.name,
    ...routes.flatMap((route) => {
      const rps = stat(scenario.name, route, (s) => s.rps)
      const base = stat(scenario.baseline, route, (s) => s.rps)
      const errors = stat(scenario.name, route, (s) => s.errors)
      return [
        `${Math.round(rps)}${errors > 0 ? ' (errors!)' : ''}`,
        (rps / base).toFixed(2),
        stat(scenario.name, route, (s) => s.cpuUs).toFixed(1),
        ...(group === 'redis' ? [stat(scenario.name, route, (s) => s.redisCommands ?? 0).toFixed(2)] : []),
      ]
    }),
  ])
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] as string).length)))
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} |`
  console.log(`\n### ${group} (${ROUNDS} rounds × ${SECONDS}s, ${CONNECTIONS} connections, medians; ratio = req/s ÷ bare framework)\n`)
  console.log(line(header))
  console.log(line(widths.map((w) => '-'.repeat(w))))
  for (const row of rows) console.log(line(row))
}

const selected = process.argv.slice(2).filter((arg) => arg !== '--')
const groups = selected.length > 0 ? selected : ['http', 'redis', 'seal']
for (const group of groups) {
  if (group === 'seal') await runSealBench()
  else if (GROUPS[group]) await runGroup(group)
  else console.error(`Unknown bench group "${group}". Groups: http, redis, seal`)
}

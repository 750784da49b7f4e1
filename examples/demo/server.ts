import { createDemoApp } from './app.js'

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const { app, close } = createDemoApp()

if (!process.env.SESSION_KEY)
  console.warn('Using the built-in demo key from examples/demo/config.ts: DEMO ONLY. Set SESSION_KEY (32+ bytes) for anything real.')
const server = app.listen(port, host, () => {
  const address = server.address()
  const actual = typeof address === 'object' && address ? address.port : port
  console.log(`Tessera demo (${process.env.SESSION_DRIVER ?? 'sqlite'} sessions) on http://${host}:${actual}`)
  console.log(
    `Admin dashboard: http://${host}:${actual}/admin (password: ${process.env.ADMIN_PASSWORD ? 'from ADMIN_PASSWORD' : '"admin", demo only'})`,
  )
})

function shutdown(): void {
  server.close()
  server.closeAllConnections()
  close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)

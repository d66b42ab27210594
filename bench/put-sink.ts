// The upload bench's receiving end: an HTTP server in its own process that reads every PUT body
// and throws it away, timing each request from its arrival to the end of its body. The worker
// (its own process too) and a plain `curl -T` of the same file PUT to it, so both are timed the
// same way, and neither competes with the receiver for an event loop, nor with the memory a
// receiver that kept 1 GiB would need (the fake Queue keeps every body it receives).
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface ReceivedPut {
  path: string
  bytes: number
  ms: number
  /** When its body ended, in milliseconds since the epoch (comparable between processes). */
  endEpochMs: number
  /** The client's port: requests on one kept-alive connection share it. */
  clientPort: number
}

const SERVER = `
const http = require('node:http')
const server = http.createServer((req, res) => {
  const arrived = performance.now()
  let bytes = 0
  req.on('data', (c) => { bytes += c.length })
  req.on('end', () => {
    const end = performance.now()
    process.stdout.write(JSON.stringify({ path: req.url, bytes, ms: end - arrived, endEpochMs: performance.timeOrigin + end, clientPort: req.socket.remotePort }) + '\\n')
    res.writeHead(200, { 'content-length': 0 }).end()
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'))
`

export async function startPutSink(): Promise<{ url: string; received: ReceivedPut[]; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] })
  const received: ReceivedPut[] = []
  const lines = createInterface({ input: child.stdout })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the PUT sink exited (${code}) before it listened`)))
    lines.on('line', (line) => {
      const m = JSON.parse(line) as ReceivedPut | { port: number }
      if ('port' in m) resolve(m.port)
      else received.push(m)
    })
  })
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill()
      await exited
    },
  }
}

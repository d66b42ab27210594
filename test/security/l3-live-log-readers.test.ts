// L3 (security-audit.md): the live-log port had no bound on readers and no idle timeout, so
// 1000 sockets that send the GET and never read added ~184 MB RSS. Readers are now capped
// (503 beyond the cap) and one that stops taking bytes while bytes wait is dropped; a reader
// that waits on a quiet log is kept. Upstream's livelog (tools/livelog/main.go:79, an
// http.Server with no timeouts) has neither bound; the token is public by design there too.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { LiveLogServer } from '../../src/servers/livelog-server.js'
import { TaskLog, type LogFormat } from '../../src/lib/task-log.js'

const plain: LogFormat = { info: (l) => l, warn: (l) => l, error: (l) => l }
const TOKEN = 'a'.repeat(22)

/**
 * A raw reader: sends the GET, then reads (or, paused, never reads). `received()` is the first
 * 4 KiB that arrived and the last 4 KiB, which is all the checks need of a long log.
 */
function rawReader(port: number, paused: boolean): { socket: net.Socket; received: () => string; closed: Promise<unknown> } {
  const socket = net.connect(port, '127.0.0.1')
  let head = ''
  let tail = ''
  socket.write(`GET /log/${TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n`)
  if (paused) socket.pause()
  else socket.on('data', (c: Buffer) => {
    const text = c.toString('latin1')
    if (head.length < 4096) head += text.slice(0, 4096 - head.length)
    tail = (tail + text).slice(-4096)
  })
  socket.on('error', () => undefined)
  return { socket, received: () => head + tail, closed: once(socket, 'close') }
}

describe('security L3: live-log readers are bounded', function () {
  let dir: string
  let log: TaskLog
  let server: LiveLogServer
  let port: number

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'l3-'))
    log = await TaskLog.open(path.join(dir, 'live.log'), plain)
  })
  afterEach(async () => {
    await log.close().catch(() => undefined)
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })

  for (const cap of [{ maxReaders: 2 }, { maxReadersPerLog: 2 }]) it(`answers 503 to a reader beyond the cap (${Object.keys(cap)[0]}) and serves the ones within it`, async () => {
    server = new LiveLogServer(cap)
    port = await server.start('127.0.0.1', 0)
    server.serve(TOKEN, log)
    log.write('hello\n')
    const first = rawReader(port, false)
    const second = rawReader(port, false)
    while (!first.received().includes('hello') || !second.received().includes('hello')) await new Promise((r) => setTimeout(r, 20))
    const third = rawReader(port, false)
    await third.closed
    assert.match(third.received(), /^HTTP\/1\.1 503 /)
    // A reader that left frees its place.
    first.socket.destroy()
    await first.closed
    await new Promise((r) => setTimeout(r, 50))
    const fourth = rawReader(port, false)
    while (!fourth.received().includes('hello')) await new Promise((r) => setTimeout(r, 20))
    assert.match(fourth.received(), /^HTTP\/1\.1 200 /)
    second.socket.destroy()
    fourth.socket.destroy()
  })

  it('drops a reader that stops taking bytes, keeps one that waits on a quiet log', async () => {
    server = new LiveLogServer({ stallMs: 500 })
    port = await server.start('127.0.0.1', 0)
    server.serve(TOKEN, log)
    const stuck = rawReader(port, true)
    const patient = rawReader(port, false)
    log.write('first line\n')
    while (!patient.received().includes('first line')) await new Promise((r) => setTimeout(r, 20))
    // Far more than loopback's socket buffers hold, so bytes wait for the stuck reader.
    const line = 'x'.repeat(1023) + '\n'
    for (let i = 0; i < 48 * 1024; i++) {
      log.write(line)
      if (i % 1024 === 0) await new Promise((r) => setImmediate(r))
    }
    log.write('end of the burst\n')
    while (!patient.received().includes('end of the burst')) await new Promise((r) => setTimeout(r, 20))
    // Several stall periods with bytes waiting: the worker has dropped the stuck reader. A paused
    // socket cannot see that, so it reads now: it gets what the kernel held, then the close,
    // never the end of the burst.
    await new Promise((r) => setTimeout(r, 1500))
    stuck.socket.on('data', () => undefined)
    stuck.socket.resume()
    await stuck.closed
    assert.equal(stuck.socket.bytesRead < 48 * 1024 * 1024, true, `the stuck reader was cut off (read ${stuck.socket.bytesRead} bytes)`)
    // The patient reader took everything, then sits on a quiet log for several stall periods.
    await new Promise((r) => setTimeout(r, 1800))
    assert.equal(patient.socket.destroyed, false, 'a reader of a quiet log is kept')
    log.write('after the quiet spell\n')
    while (!patient.received().includes('after the quiet spell')) await new Promise((r) => setTimeout(r, 20))
    patient.socket.destroy()
  })
})

// putFile, the PUT of every s3 artifact body: what arrives is the file's bytes exactly (two
// reused read buffers must never send a buffer that is being read into again), never more than
// the announced length (security audit H10), and a failure of any kind rejects, once.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { HttpStatusError, putFile } from '../../src/taskcluster/http-put.js'
import { useTempDir } from '../helpers/temp-dir.js'

interface Received {
  sha256: string
  bytes: number
}

async function server(answer: (req: http.IncomingMessage, res: http.ServerResponse, received: Received) => void) {
  const got: Received[] = []
  const s = http.createServer((req, res) => {
    const hash = createHash('sha256')
    let bytes = 0
    req.on('data', (c: Buffer) => {
      hash.update(c)
      bytes += c.length
    })
    req.on('end', () => {
      const r = { sha256: hash.digest('hex'), bytes }
      got.push(r)
      answer(req, res, r)
    })
  })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/x`, got, closeAll: () => s.closeAllConnections(), close: () => new Promise((resolve) => s.close(resolve)) }
}

describe('putFile (artifact bodies)', () => {
  const dir = useTempDir('megalodon-put-')

  it('sends a file of several read buffers byte for byte', async () => {
    // 5 MiB and a bit: five full 1 MiB reads through the two buffers, then a short one
    const content = randomBytes(5 * 1024 * 1024 + 12345)
    const file = path.join(dir(), 'f')
    await writeFile(file, content)
    const s = await server((_req, res) => res.writeHead(200).end())
    await putFile(s.url, file, { 'content-type': 'application/octet-stream', 'content-length': content.length })
    await s.close()
    assert.deepEqual(s.got, [{ sha256: createHash('sha256').update(content).digest('hex'), bytes: content.length }])
  })

  it('stops at the announced length when the file is longer (security audit H10)', async () => {
    const content = randomBytes(3 * 1024 * 1024)
    const file = path.join(dir(), 'f')
    await writeFile(file, content)
    const s = await server((_req, res) => res.writeHead(200).end())
    const length = 2 * 1024 * 1024 + 7
    await putFile(s.url, file, { 'content-type': 'application/octet-stream', 'content-length': length })
    await s.close()
    assert.deepEqual(s.got, [{ sha256: createHash('sha256').update(content.subarray(0, length)).digest('hex'), bytes: length }])
  })

  it('a file shorter than announced (cut during the upload) rejects instead of leaving the body short', async () => {
    const file = path.join(dir(), 'f')
    await writeFile(file, randomBytes(1000))
    const s = await server((_req, res) => res.writeHead(200).end())
    await assert.rejects(putFile(s.url, file, { 'content-type': 'application/octet-stream', 'content-length': 5000 }), /ended after 1000 of the 5000 bytes announced/)
    s.closeAll()
    await s.close()
  })

  it('an empty file is an empty body', async () => {
    const file = path.join(dir(), 'f')
    await writeFile(file, '')
    const s = await server((_req, res) => res.writeHead(200).end())
    await putFile(s.url, file, { 'content-type': 'text/plain', 'content-length': 0 })
    await s.close()
    assert.equal(s.got[0]!.bytes, 0)
  })

  it('an empty body opens nothing: a FIFO announced at length 0 does not hold the PUT', async () => {
    const fifo = path.join(dir(), 'p')
    execFileSync('mkfifo', [fifo])
    const s = await server((_req, res) => res.writeHead(200).end())
    await putFile(s.url, fifo, { 'content-type': 'text/plain', 'content-length': 0 })
    await s.close()
    assert.equal(s.got[0]!.bytes, 0)
  })

  it('a refusal names the status and keeps at most 64 KiB of the answer', async () => {
    const file = path.join(dir(), 'f')
    await writeFile(file, 'body')
    const s = await server((_req, res) => res.writeHead(403).end('x'.repeat(1024 * 1024)))
    await assert.rejects(putFile(s.url, file, { 'content-type': 'text/plain', 'content-length': 4 }), (err: unknown) => {
      assert.ok(err instanceof HttpStatusError)
      assert.equal(err.statusCode, 403)
      // the message shows the first 300 characters of what was kept
      assert.match(err.message, /^PUT http:\/\/127\.0\.0\.1:\d+\/x answered 403: x{300}$/)
      return true
    })
    await s.close()
  })

  it('a connection that is refused, or a missing file, rejects (and nothing is left unhandled)', async () => {
    const file = path.join(dir(), 'f')
    await writeFile(file, randomBytes(3 * 1024 * 1024))
    const s = await server((_req, res) => res.writeHead(200).end())
    await s.close()
    const unhandled: unknown[] = []
    const note = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', note)
    try {
      await assert.rejects(putFile(s.url, file, { 'content-type': 'application/octet-stream', 'content-length': 3 * 1024 * 1024 }), /ECONNREFUSED/)
      await assert.rejects(putFile(s.url, path.join(dir(), 'missing'), { 'content-type': 'text/plain', 'content-length': 10 }), /ENOENT/)
      await new Promise((r) => setTimeout(r, 50))
    } finally {
      process.off('unhandledRejection', note)
    }
    assert.deepEqual(unhandled, [])
  })

  it('an abort rejects the PUT of a large file mid-body', async () => {
    const file = path.join(dir(), 'f')
    await writeFile(file, randomBytes(8 * 1024 * 1024))
    const controller = new AbortController()
    // a server that never reads: the body backs up, then the abort comes
    const s = http.createServer(() => setTimeout(() => controller.abort(new Error('task aborted')), 100))
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/x`
    await assert.rejects(putFile(url, file, { 'content-type': 'application/octet-stream', 'content-length': 8 * 1024 * 1024 }, controller.signal), /abort/i)
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  })
})

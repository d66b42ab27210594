// websocktunnel's wsmux (tools/websocktunnel/wsmux): frames as frame.go reads them, streams
// with stream.go's flow control, over a real websocket on loopback.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'
import { decodeFrame, encodeFrame, MSG_ACK, MSG_DAT, MSG_FIN, MSG_SYN, WsmuxSession, type WsmuxStream } from '../../src/lib/wsmux.js'
import { until } from '../helpers/tasks.js'

/** A server and a client session joined by a websocket; `raw` sees every frame the client receives. */
async function pair(bufferSize?: number, clientOptions: { bufferSize?: number; peerBufferSize?: number } = {}): Promise<{ server: WsmuxSession; client: WsmuxSession; clientWs: WebSocket; serverWs: WebSocket; received: Buffer[]; close(): Promise<void> }> {
  const httpServer = http.createServer()
  const wss = new WebSocketServer({ server: httpServer })
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r))
  const serverWs = new Promise<WebSocket>((r) => wss.once('connection', r))
  const clientWs = new WebSocket(`ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/`)
  const received: Buffer[] = []
  clientWs.on('message', (d: Buffer) => received.push(d))
  await new Promise((r) => clientWs.once('open', r))
  const sws = await serverWs
  const server = new WsmuxSession(sws, { server: true, bufferSize })
  const client = new WsmuxSession(clientWs, { server: false, bufferSize, ...clientOptions })
  return {
    server,
    client,
    clientWs,
    serverWs: sws,
    received,
    close: async () => {
      client.close()
      server.close()
      wss.close()
      httpServer.closeAllConnections()
      await new Promise((r) => httpServer.close(r))
    },
  }
}

/** Everything a stream's readable half delivers (not `for await`, which destroys both halves at the end). */
const readAll = (s: WsmuxStream): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    s.on('data', (c: Buffer) => chunks.push(c))
    s.once('end', () => resolve(Buffer.concat(chunks)))
    s.once('error', reject)
  })

describe('wsmux (websocktunnel)', () => {
  it('frames: a 5-byte header, little-endian id; frame.go’s malformed cases refused (frame.go:42-47, 76-104)', () => {
    const f = encodeFrame(MSG_ACK, 0x01020304, Buffer.from([0, 0, 64, 0]))
    assert.deepEqual([...f.subarray(0, 5)], [MSG_ACK, 4, 3, 2, 1])
    assert.deepEqual(decodeFrame(f), { msg: MSG_ACK, id: 0x01020304, payload: Buffer.from([0, 0, 64, 0]) })
    assert.equal(decodeFrame(encodeFrame(MSG_DAT, 7, Buffer.from('hi'))).payload.toString(), 'hi')
    assert.throws(() => decodeFrame(Buffer.from([0, 1, 0])), /malformed header/)
    assert.throws(() => decodeFrame(Buffer.from([4, 1, 0, 0, 0])), /malformed header/)
    assert.throws(() => decodeFrame(Buffer.from([MSG_SYN, 1, 0, 0, 0, 9])), /malformed payload/)
    assert.throws(() => decodeFrame(Buffer.from([MSG_FIN, 1, 0, 0, 0, 9])), /malformed payload/)
    assert.throws(() => decodeFrame(Buffer.from([MSG_ACK, 1, 0, 0, 0, 9])), /malformed payload/)
  })

  it('carries bytes both ways, byte for byte, and ends each half with FIN; the server opens even ids (session.go:77-119, 152)', async () => {
    const p = await pair()
    try {
      const accepted = new Promise<WsmuxStream>((r) => p.client.once('stream', r))
      const fromServer = await p.server.open()
      const atClient = await accepted
      assert.equal(fromServer.id % 2, 0)
      const down = randomBytes(9 * 1024 * 1024 + 17)
      const up = randomBytes(5 * 1024 * 1024 + 3)
      const gotDown = readAll(atClient)
      const gotUp = readAll(fromServer)
      fromServer.end(down)
      atClient.end(up)
      assert.ok((await gotDown).equals(down))
      assert.ok((await gotUp).equals(up))
    } finally {
      await p.close()
    }
  })

  it('flow control: a reader that does not read holds the writer to one buffer (stream.go:304-339 Read’s ACK, 343-382 Write’s wait)', async () => {
    const bufferSize = 64 * 1024
    const p = await pair(bufferSize)
    try {
      const accepted = new Promise<WsmuxStream>((r) => p.client.once('stream', r))
      const writer = await p.server.open()
      const reader = await accepted
      reader.pause()
      let written = false
      writer.write(randomBytes(1024 * 1024), () => (written = true))
      await new Promise((r) => setTimeout(r, 300))
      const dataBytes = () => p.received.filter((f) => f[0] === MSG_DAT).reduce((n, f) => n + f.length - 5, 0)
      // at most the window, plus what the paused reader's own buffer had taken and granted back
      assert.ok(dataBytes() <= bufferSize + reader.readableHighWaterMark, `${dataBytes()} bytes arrived`)
      assert.equal(written, false)
      const all = readAll(reader)
      reader.resume()
      writer.end()
      assert.equal((await all).length, 1024 * 1024)
      assert.equal(written, true)
    } finally {
      await p.close()
    }
  })

  it('the acceptor grants its own window and assumes the peer’s for what it sends (session.go:122-143 Accept, stream.go:227-235 acceptStream)', async () => {
    const p = await pair(undefined, { bufferSize: 1024, peerBufferSize: 8192 })
    try {
      const serverFrames: Buffer[] = []
      p.serverWs.on('message', (d: Buffer) => serverFrames.push(d))
      const accepted = new Promise<WsmuxStream>((r) => p.client.once('stream', r))
      p.serverWs.send(encodeFrame(MSG_SYN, 4))
      const stream = await accepted
      await until(() => serverFrames.length > 0)
      assert.deepEqual(decodeFrame(serverFrames[0]!), { msg: MSG_ACK, id: 4, payload: Buffer.from([0, 4, 0, 0]) })
      let done = false
      stream.write(Buffer.alloc(8192, 1), () => (done = true))
      await until(() => done)
      const sent = serverFrames.slice(1).filter((f) => f[0] === MSG_DAT).reduce((n, f) => n + f.length - 5, 0)
      assert.equal(sent, 8192, 'all of the assumed window without waiting for an ACK')
    } finally {
      await p.close()
    }
  })

  it('a malformed frame closes the session with 1008, policy violation (session.go:406-410 abortProtocol)', async () => {
    const p = await pair()
    try {
      const closed = new Promise<number>((r) => p.serverWs.once('close', (code: number) => r(code)))
      p.serverWs.send(Buffer.from([9, 0, 0, 0, 0]))
      assert.equal(await closed, 1008)
      await until(() => p.client.isClosed)
    } finally {
      await p.close()
    }
  })

  it('a peer that sends beyond the window it was granted is cut off', async () => {
    const bufferSize = 1024
    const p = await pair(bufferSize)
    try {
      const accepted = new Promise<WsmuxStream>((r) => p.client.once('stream', r))
      p.serverWs.send(encodeFrame(MSG_SYN, 2))
      const stream = await accepted
      stream.pause()
      stream.on('error', () => {})
      p.serverWs.send(encodeFrame(MSG_DAT, 2, Buffer.alloc(bufferSize + 1)))
      await until(() => p.client.isClosed)
    } finally {
      await p.close()
    }
  })
})

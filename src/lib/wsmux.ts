// websocktunnel's wsmux: many byte streams over one websocket (tools/websocktunnel/wsmux). Each
// binary message is one frame, a 5-byte header (message type, stream id as little-endian uint32)
// and a payload (frame.go): DAT carries bytes, SYN opens a stream, ACK grants the sender that
// many more bytes (4-byte little-endian payload), FIN ends the sender's half. Flow control as
// stream.go: a stream's acceptor starts with the buffer size as its credit and grants the opener
// the same with its first ACK; each side then ACKs what its reader has consumed, so neither
// holds more than one buffer of a stream's unread bytes. The server opens even ids from 0, the
// client odd ids from 1 (session.go newSession). Both sides ping every 20 s and give up on a
// session whose peer has not answered the previous ping (session.go sendKeepAlives).

import { EventEmitter } from 'node:events'
import { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'

export const MSG_DAT = 0
export const MSG_SYN = 1
export const MSG_ACK = 2
export const MSG_FIN = 3
const HEADER_SIZE = 5

/** The buffer size websocktunnel's client and server both configure (client.go, proxy.go). */
export const STREAM_BUFFER_SIZE = 4 * 1024 * 1024
/** DAT frames are cut to this size (upstream sends up to the whole credit at once). */
const MAX_DATA_FRAME = 256 * 1024
/** Streams a session holds at once; a SYN beyond it is answered with FIN. */
const MAX_STREAMS = 256

export class WsmuxProtocolError extends Error {}

export interface Frame {
  msg: number
  id: number
  payload: Buffer
}

export function encodeFrame(msg: number, id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length)
  frame[0] = msg
  frame.writeUInt32LE(id, 1)
  payload.copy(frame, HEADER_SIZE)
  return frame
}

/** frame.go deserializeFrame: a short header or an unknown type is malformed, and so are a SYN or FIN with a payload and an ACK whose payload is not 4 bytes. */
export function decodeFrame(data: Buffer): Frame {
  if (data.length < HEADER_SIZE) throw new WsmuxProtocolError('wsmux: malformed header')
  const msg = data[0]!
  if (msg > MSG_FIN) throw new WsmuxProtocolError('wsmux: malformed header')
  const payload = data.subarray(HEADER_SIZE)
  if ((msg === MSG_SYN || msg === MSG_FIN) && payload.length !== 0) throw new WsmuxProtocolError('wsmux: malformed payload')
  if (msg === MSG_ACK && payload.length !== 4) throw new WsmuxProtocolError('wsmux: malformed payload')
  return { msg, id: data.readUInt32LE(1), payload }
}

export interface SessionOptions {
  /** The server side opens even stream ids, the client odd ones. */
  server: boolean
  /**
   * The unread bytes of a stream this side holds at most: the window it grants (default the
   * 4 MiB both upstream sides use). A worker only receives requests and keystrokes, so it
   * grants less, which bounds what a flood of streams can make it buffer.
   */
  bufferSize?: number
  /** The window this side assumes the peer grants a stream it opens (stream.go acceptStream: its own size). */
  peerBufferSize?: number
  keepAliveMs?: number
  /** How long open() waits for the peer's ACK (session.go: 30 s). */
  acceptDeadlineMs?: number
}

/** One stream: a Duplex whose writes wait for the peer's credit and whose reads grant it. */
export class WsmuxStream extends Duplex {
  /** Bytes the peer will still take. */
  private credit: number
  /** Bytes received, and bytes of them granted back to the peer. */
  private received = 0
  private granted = 0
  private pendingWrite: { chunk: Buffer; callback: (err?: Error | null) => void } | undefined
  private finSent = false
  private remoteEnded = false
  private accepted: (() => void) | undefined

  constructor(
    readonly id: number,
    private readonly session: WsmuxSession,
    initialCredit: number,
  ) {
    super({ allowHalfOpen: true })
    this.credit = initialCredit
  }

  /** Opened by us: resolves when the peer's first ACK accepts it. */
  whenAccepted(): Promise<void> {
    return new Promise((resolve) => (this.accepted = resolve))
  }

  handleFrame(frame: Frame): void {
    if (frame.msg === MSG_ACK) {
      this.credit += frame.payload.readUInt32LE(0)
      const accepted = this.accepted
      this.accepted = undefined
      accepted?.()
      this.flushPending()
    } else if (frame.msg === MSG_DAT) {
      if (this.remoteEnded) return
      // more than the window we granted: the peer ignores flow control, and would have us buffer without bound
      if (this.received + frame.payload.length - this.granted > this.session.bufferSize) {
        this.session.abortProtocol(new WsmuxProtocolError(`wsmux: stream ${this.id} sent beyond its window`))
        return
      }
      this.received += frame.payload.length
      this.push(Buffer.from(frame.payload))
      this.grant()
    } else if (frame.msg === MSG_FIN) {
      if (this.remoteEnded) return
      this.remoteEnded = true
      this.push(null)
    }
  }

  /** ACK what our reader has taken (stream.go Read: an ACK of every read). */
  private grant(): void {
    const consumed = this.received - this.readableLength
    if (consumed > this.granted) {
      this.session.send(encodeFrame(MSG_ACK, this.id, uint32(consumed - this.granted)))
      this.granted = consumed
    }
  }

  override _read(): void {
    // Readable.read() calls _read before it takes the bytes it returns out of the buffer: grant
    // once it has
    process.nextTick(() => this.grant())
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.pendingWrite = { chunk, callback }
    this.flushPending()
  }

  private flushPending(): void {
    const pending = this.pendingWrite
    if (!pending) return
    while (pending.chunk.length > 0 && this.credit > 0) {
      const n = Math.min(pending.chunk.length, this.credit, MAX_DATA_FRAME)
      if (!this.session.send(encodeFrame(MSG_DAT, this.id, pending.chunk.subarray(0, n)))) {
        this.pendingWrite = undefined
        pending.callback(new Error('wsmux: session closed'))
        return
      }
      pending.chunk = pending.chunk.subarray(n)
      this.credit -= n
    }
    if (pending.chunk.length === 0) {
      this.pendingWrite = undefined
      pending.callback()
    }
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.sendFin()
    callback()
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.sendFin()
    this.pendingWrite?.callback(err ?? new Error('wsmux: stream destroyed'))
    this.pendingWrite = undefined
    this.session.forget(this.id)
    callback(err)
  }

  private sendFin(): void {
    if (this.finSent) return
    this.finSent = true
    this.session.send(encodeFrame(MSG_FIN, this.id))
  }
}

function uint32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeUInt32LE(n, 0)
  return b
}

/**
 * A wsmux session over an open websocket. 'stream' is emitted with every stream the peer opens
 * (accepted at once); 'close' once, when the websocket is gone or the session aborted.
 */
export class WsmuxSession extends EventEmitter {
  readonly bufferSize: number
  private readonly peerBufferSize: number
  private readonly streams = new Map<number, WsmuxStream>()
  private nextId: number
  private closed = false
  private pongSeen = true
  private readonly keepAlive: NodeJS.Timeout
  private readonly acceptDeadlineMs: number

  constructor(
    private readonly ws: WebSocket,
    options: SessionOptions,
  ) {
    super()
    this.bufferSize = options.bufferSize ?? STREAM_BUFFER_SIZE
    this.peerBufferSize = options.peerBufferSize ?? this.bufferSize
    this.acceptDeadlineMs = options.acceptDeadlineMs ?? 30_000
    this.nextId = options.server ? 0 : 1
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary))
    ws.on('pong', () => (this.pongSeen = true))
    ws.once('close', () => this.close())
    ws.on('error', () => this.close())
    this.keepAlive = setInterval(() => {
      if (!this.pongSeen) return this.close()
      this.pongSeen = false
      ws.ping()
    }, options.keepAliveMs ?? 20_000)
    this.keepAlive.unref()
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Sends one frame; false when the session is closed. */
  send(frame: Buffer): boolean {
    if (this.closed) return false
    this.ws.send(frame, { binary: true })
    return true
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return
    if (!isBinary) return this.abortProtocol(new WsmuxProtocolError('wsmux: unexpected message type'))
    let frame: Frame
    try {
      frame = decodeFrame(data)
    } catch (err) {
      return this.abortProtocol(err as WsmuxProtocolError)
    }
    if (frame.msg === MSG_SYN) return this.handleSyn(frame.id)
    this.streams.get(frame.id)?.handleFrame(frame)
  }

  private handleSyn(id: number): void {
    if (this.streams.has(id)) return // session.go handleSyn: a duplicate SYN is ignored
    if (this.streams.size >= MAX_STREAMS) {
      this.send(encodeFrame(MSG_FIN, id))
      return
    }
    const stream = new WsmuxStream(id, this, this.peerBufferSize)
    this.streams.set(id, stream)
    this.send(encodeFrame(MSG_ACK, id, uint32(this.bufferSize)))
    this.emit('stream', stream)
  }

  /** Opens a stream; rejects if the peer does not accept it within the deadline. */
  async open(): Promise<WsmuxStream> {
    if (this.closed) throw new Error('wsmux: session closed')
    while (this.streams.has(this.nextId)) this.nextId = (this.nextId + 2) >>> 0
    const id = this.nextId
    this.nextId = (this.nextId + 2) >>> 0
    const stream = new WsmuxStream(id, this, 0)
    this.streams.set(id, stream)
    const accepted = stream.whenAccepted()
    this.send(encodeFrame(MSG_SYN, id))
    let timer: NodeJS.Timeout | undefined
    let onClose: (() => void) | undefined
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('wsmux: accept timed out')), this.acceptDeadlineMs)
      onClose = () => reject(new Error('wsmux: session closed'))
      this.once('close', onClose)
    })
    try {
      await Promise.race([accepted, failed])
      return stream
    } catch (err) {
      stream.destroy()
      throw err
    } finally {
      clearTimeout(timer)
      this.off('close', onClose!)
    }
  }

  forget(id: number): void {
    this.streams.delete(id)
  }

  /** session.go abortProtocol: tell the peer why (1008, policy violation), then close. */
  abortProtocol(err: Error): void {
    if (this.closed) return
    this.ws.close(1008, err.message.slice(0, 120))
    this.close(err, false)
  }

  /** Ends the session and every stream; `terminate` drops the socket now rather than after a close handshake. */
  close(err?: Error, terminate = true): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.keepAlive)
    // destroyed without an error: a stream nobody listens to for errors must not throw one
    // (its users see 'close' without 'end')
    for (const stream of this.streams.values()) stream.destroy()
    this.streams.clear()
    if (terminate) this.ws.terminate()
    else setTimeout(() => this.ws.terminate(), 1000).unref()
    this.emit('close', err)
  }
}

// MinLZ's stream format (SPEC.md v1.0.1, "STREAM FORMAT"; the `.mz` files of generic-worker's
// `mz` and `tar.mz` mounts): chunks of a type byte and a 3-byte length, starting with the
// "MinLz" stream identifier, each data chunk with its masked CRC-32C, closed by an EOF chunk that
// carries the stream's length. Blocks are decoded by minlz-block.ts. This implements the MinLZ
// specification v1.0; the optional index (0x40) and search (0x44-0x47) chunks are skipped, as the
// spec allows, and Snappy/S2 streams and legacy chunks are refused.
//
// generic-worker reads these files with minio/minlz v1.0.1's stream reader (through
// mholt/archives' MinLZ format: `minlz.NewReader(r)`, defaults). Where the spec leaves the
// decoder a choice, or reads two ways, this does what that reader does (reader.go, v1.0.1), so
// a file generic-worker accepts is accepted here and one it refuses is refused:
// - a stream that ends without its EOF chunk is refused (the spec lets decoders accept it);
// - before the first stream identifier, chunks a decoder may skip and an EOF chunk are taken
//   (the spec says the identifier comes first, and that a stream may start with its EOF); an
//   empty file decodes to nothing;
// - a stream identifier before the previous stream's EOF chunk starts a new count (the spec
//   asks for one EOF per identifier; the reader resets its count at each identifier);
// - chunk type 0x03's checksum covers the compressed bytes after the block's length;
// - a compressed or stored chunk may be at most the stream's maximum block size + 6 bytes (the
//   reader's bound: its checksum and the encoder's worst case, MaxEncodedLen = size + 2).
//
// Bounds: a chunk's declared length is checked against the stream's maximum block size before
// its bytes are awaited, and a block's declared size before it is decoded, so at most one chunk
// (≤ 8 MiB + 6) is buffered and one block (≤ 8 MiB) is allocated at a time; skippable chunks are
// dropped as they arrive. Output waits for the reader (a tiny chunk can decode to 8 MiB: without
// backpressure a small file could fill memory).

import { Transform, type TransformCallback } from 'node:stream'
import { ByteQueue } from './byte-queue.js'
import { maskedCrc32c } from './crc32c.js'
import { decodeBody, MAX_BLOCK_SIZE, MinLZError, readVarint } from './minlz-block.js'

export { MinLZError } from './minlz-block.js'

/** §4 chunk types. */
const CHUNK = {
  legacyCompressed: 0x00,
  uncompressed: 0x01,
  minlz: 0x02,
  minlzCompressedCrc: 0x03,
  eof: 0x20,
  maxNonSkippable: 0x3f,
  minUserNonSkippable: 0xc0,
  maxUserNonSkippable: 0xfd,
  streamIdentifier: 0xff,
} as const

const MAGIC = Buffer.from('MinLz')
/** §4.1.1: the identifier's last byte is log2(maximum block size) − 10, at most 13 (8 MiB). */
const MAX_BLOCK_SIZE_INDICATOR = 13
/** What a compressed chunk may hold beyond its block's maximum: checksum 4, encoder overhead 2. */
const COMPRESSED_CHUNK_OVERHEAD = 6
/** §4.6: "Maximum chunk size is 10 bytes (64 bit varint encoded)". */
const MAX_EOF_CHUNK = 10

interface ChunkHeader {
  type: number
  length: number
  /** Skippable: dropped as it arrives, never buffered. */
  skip: boolean
}

/** A stream that decodes MinLZ-framed input; bad input fails it with MinLZError. */
export function minlzDecoder(): Transform {
  return new MinLZStreamDecoder()
}

class MinLZStreamDecoder extends Transform {
  private readonly input = new ByteQueue()
  private chunk?: ChunkHeader
  private skipLeft = 0
  /** Between a stream identifier and its EOF chunk. */
  private inStream = false
  private maxBlock = MAX_BLOCK_SIZE
  /** Bytes decoded since the last stream identifier: what the EOF chunk must state. */
  private decoded = 0
  /** Decoding paused because the reader has enough: carry on when it asks for more. */
  private paused?: () => void

  override _transform(piece: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.input.push(piece)
    this.decodeAvailable(done)
  }

  override _read(size: number): void {
    const carryOn = this.paused
    this.paused = undefined
    carryOn?.()
    // Transform's own _read hands the next write over; when the decoding just resumed finished
    // its write while the reader still held what it had pushed, Transform has parked that
    // write's callback for the next _read, which a reader that has not yet been given anything
    // new will never make: run it now
    super._read(size)
  }

  override _flush(done: TransformCallback): void {
    if (this.chunk || this.input.length > 0) done(new MinLZError('MinLZ stream ends in the middle of a chunk'))
    else if (this.inStream) done(new MinLZError('MinLZ stream ends without its EOF chunk (truncated?)'))
    else done()
  }

  private decodeAvailable(done: TransformCallback): void {
    try {
      for (;;) {
        const out = this.step()
        if (out === undefined) return done()
        if (out.length > 0 && !this.push(out)) {
          this.paused = () => this.decodeAvailable(done)
          return
        }
      }
    } catch (err) {
      done(err as Error)
    }
  }

  /** Act on what the input holds: the bytes a chunk decoded to (maybe none), or undefined for "need more input". */
  private step(): Buffer | undefined {
    if (!this.chunk) {
      if (this.input.length < 4) return undefined
      const h = this.input.take(4)
      this.chunk = this.checkHeader(h[0]!, h.readUIntLE(1, 3))
      this.skipLeft = this.chunk.skip ? this.chunk.length : 0
    }
    const chunk = this.chunk
    if (chunk.skip) {
      this.skipLeft -= this.input.drop(this.skipLeft)
      if (this.skipLeft > 0) return undefined
      this.chunk = undefined
      return Buffer.alloc(0)
    }
    if (this.input.length < chunk.length) return undefined
    this.chunk = undefined
    return this.handle(chunk.type, this.input.take(chunk.length))
  }

  /** Everything a chunk's header alone can tell: checked before its bytes are waited for. */
  private checkHeader(type: number, length: number): ChunkHeader {
    // §4.1: the identifier comes first; before it the reference reader skips what the spec lets
    // it skip, and takes an EOF chunk as an empty stream (§4.6), but no data
    if (!this.inStream && type !== CHUNK.streamIdentifier && type !== CHUNK.eof && type <= CHUNK.maxNonSkippable) {
      throw new MinLZError(`not a MinLZ stream: chunk type 0x${hex(type)} where a stream identifier must come first`)
    }
    switch (type) {
      case CHUNK.streamIdentifier:
        if (length !== MAGIC.length + 1) throw new MinLZError(`MinLZ stream identifier of ${length} bytes (must be ${MAGIC.length + 1})`)
        break
      case CHUNK.minlz:
      case CHUNK.minlzCompressedCrc:
        if (length < 4) throw new MinLZError(`MinLZ compressed chunk of ${length} bytes has no room for its checksum`)
        if (length > this.maxBlock + COMPRESSED_CHUNK_OVERHEAD) throw new MinLZError(`MinLZ compressed chunk of ${length} bytes is over the stream's maximum block size ${this.maxBlock}`)
        break
      case CHUNK.uncompressed:
        if (length < 4) throw new MinLZError(`MinLZ uncompressed chunk of ${length} bytes has no room for its checksum`)
        if (length - 4 > this.maxBlock) throw new MinLZError(`MinLZ uncompressed chunk of ${length - 4} bytes is over the stream's maximum block size ${this.maxBlock}`)
        break
      case CHUNK.legacyCompressed:
        throw new MinLZError('MinLZ stream has a legacy (Snappy) compressed chunk, which MinLZ streams may not hold (§4.3)')
      case CHUNK.eof:
        if (length > MAX_EOF_CHUNK) throw new MinLZError(`MinLZ EOF chunk of ${length} bytes (at most ${MAX_EOF_CHUNK})`)
        break
      default:
        if (type <= CHUNK.maxNonSkippable) throw new MinLZError(`MinLZ stream has a chunk of reserved unskippable type 0x${hex(type)}`)
        if (type >= CHUNK.minUserNonSkippable && type <= CHUNK.maxUserNonSkippable) throw new MinLZError(`MinLZ stream has a user-defined unskippable chunk (type 0x${hex(type)})`)
        // 0x40-0xbf (index, search, reserved and user skippable) and 0xfe (padding)
        return { type, length, skip: true }
    }
    return { type, length, skip: false }
  }

  private handle(type: number, body: Buffer): Buffer {
    switch (type) {
      case CHUNK.streamIdentifier:
        this.startStream(body)
        return Buffer.alloc(0)
      case CHUNK.eof:
        this.endStream(body)
        return Buffer.alloc(0)
      case CHUNK.uncompressed: {
        const data = body.subarray(4)
        if (maskedCrc32c(data) !== body.readUInt32LE(0)) throw new MinLZError('MinLZ uncompressed chunk fails its CRC-32C check')
        this.decoded += data.length
        return data
      }
      default:
        return this.decodeChunk(type, body)
    }
  }

  /** §4.1: "MinLz", then the maximum block size; resets the stream's length count. */
  private startStream(body: Buffer): void {
    const magic = body.subarray(0, MAGIC.length)
    if (!magic.equals(MAGIC)) {
      const name = body.toString('latin1')
      if (name === 'sNaPpY' || name === 'S2sTwO') throw new MinLZError(`a ${name === 'sNaPpY' ? 'Snappy' : 'S2'} stream, not MinLZ (format mz reads MinLZ streams only)`)
      throw new MinLZError('not a MinLZ stream (bad stream identifier)')
    }
    const info = body[MAGIC.length]!
    // bits 4-5 are reserved and must be ignored; 6-7 must be 0
    if (info >> 6 !== 0) throw new MinLZError('MinLZ stream identifier has its reserved bits 6-7 set')
    if ((info & 15) > MAX_BLOCK_SIZE_INDICATOR) throw new MinLZError(`MinLZ stream identifier declares a maximum block size of 2^${(info & 15) + 10} (at most 2^23)`)
    this.maxBlock = 1 << ((info & 15) + 10)
    this.inStream = true
    this.decoded = 0
  }

  /** §4.6: the EOF chunk, with the length decoded since the identifier (or empty: not checked). */
  private endStream(body: Buffer): void {
    if (body.length > 0) {
      const stated = uvarint64Filling(body)
      if (stated !== BigInt(this.decoded)) throw new MinLZError(`MinLZ stream decoded to ${this.decoded} bytes but its EOF chunk says ${stated}`)
    }
    this.inStream = false
  }

  /** §4.4, §4.5: a block without its indicator byte, after its checksum. */
  private decodeChunk(type: number, body: Buffer): Buffer {
    const stored = body.readUInt32LE(0)
    // a length over the stream's maximum block size is refused as its digits are read
    const size = readVarint(body, 4, this.maxBlock)
    if (!size) throw new MinLZError('MinLZ compressed chunk ends inside its block length')
    if (size.value === 0) throw new MinLZError('MinLZ compressed chunk of 0 bytes (not allowed in streams)')
    const block = body.subarray(4 + size.length)
    if (type === CHUNK.minlzCompressedCrc && maskedCrc32c(block) !== stored) throw new MinLZError('MinLZ chunk fails its CRC-32C check (of the compressed bytes)')
    const data = decodeBody(block, size.value)
    if (type === CHUNK.minlz && maskedCrc32c(data) !== stored) throw new MinLZError('MinLZ chunk fails its CRC-32C check')
    this.decoded += data.length
    return data
  }
}

/** A little-endian base-128 varint of at most 64 bits that must fill `body` exactly (§4.6). */
function uvarint64Filling(body: Buffer): bigint {
  let value = 0n
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!
    if (i === 9 && b > 1) throw new MinLZError('MinLZ EOF chunk length is over 64 bits')
    value |= BigInt(b & 0x7f) << BigInt(7 * i)
    if ((b & 0x80) === 0) {
      if (i + 1 !== body.length) throw new MinLZError('MinLZ EOF chunk has bytes after its length')
      return value
    }
  }
  throw new MinLZError('MinLZ EOF chunk ends inside its length')
}

const hex = (n: number) => n.toString(16).padStart(2, '0')

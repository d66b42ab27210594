// MinLZ content for the tests, written byte by byte from SPEC.md v1.0.1's layouts (no MinLZ
// encoder exists for Node, and Debian has none): stream chunks (§4), block elements (§2), and a
// small greedy encoder that uses them, so compressible content (tarballs) can be made at test
// time. The CRC-32C here is the plain bitwise one, independent of the decoder's tables.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { projectPath } from '../../src/lib/paths.js'

/** SPEC.md and the reference encoder's block with its text (../shared/upstream/minlz). */
export const minlzDir = projectPath('..', 'shared', 'upstream', 'minlz')
export const referenceBlock = () => readFileSync(path.join(minlzDir, 'Mark.Twain-Tom.Sawyer.txt.mzb'))
export const referenceText = () => readFileSync(path.join(minlzDir, 'Mark.Twain-Tom.Sawyer.txt'))

/** CRC-32C, bit by bit (RFC 3720 §12.1), masked as the stream format stores it (§3). */
export function maskedCrc(data: Uint8Array): number {
  let c = 0xffffffff
  for (const b of data) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  }
  c = (c ^ 0xffffffff) >>> 0
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0
}

export function varint(n: number | bigint): Buffer {
  let v = BigInt(n)
  const out: number[] = []
  do {
    const b = Number(v & 0x7fn)
    v >>= 7n
    out.push(v > 0n ? b | 0x80 : b)
  } while (v > 0n)
  return Buffer.from(out)
}

const le = (v: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff))
const crcBytes = (data: Uint8Array) => le(maskedCrc(data), 4)

/** §4.1: type byte, 3-byte little-endian length, body. */
export const chunk = (type: number, body: Uint8Array = Buffer.alloc(0)) => Buffer.concat([Buffer.from([type]), le(body.length, 3), body])
/** §4.1: "MinLz" and the block size byte (log2(max block size) − 10 in bits 0-3). */
export const streamIdentifier = (info = 13) => chunk(0xff, Buffer.concat([Buffer.from('MinLz'), Buffer.from([info])]))
/** §4.2: stored bytes after the checksum of themselves. */
export const uncompressedChunk = (data: Uint8Array) => chunk(0x01, Buffer.concat([crcBytes(data), data]))
/** §4.4: a block without its indicator byte, after the checksum of what it decodes to. */
export const minlzChunk = (block: Uint8Array, decoded: Uint8Array) => chunk(0x02, Buffer.concat([crcBytes(decoded), block]))
/**
 * §4.5: the same with the checksum of the compressed bytes; which bytes is the spec's ambiguity:
 * minio/minlz v1.0.1's reader (reader.go:326, 341-344) checks those after the block's length varint.
 */
export function minlzCompressedCrcChunk(block: Uint8Array): Buffer {
  let n = 0
  while (block[n]! & 0x80) n++
  return chunk(0x03, Buffer.concat([crcBytes(block.subarray(n + 1)), block]))
}
/** §4.6: the stream's length, or nothing (length not checked). */
export const eofChunk = (length?: number | bigint) => chunk(0x20, length === undefined ? Buffer.alloc(0) : varint(length))
export const paddingChunk = (n: number) => chunk(0xfe, Buffer.alloc(n))

/** A standalone (`.mzb`) block without its MinLZ indicator byte 0: what a stream chunk holds. */
export const withoutIndicator = (mzb: Uint8Array) => mzb.subarray(1)

/** Block elements (§2), each encoded as the spec lays it out. */
export const op = {
  /** §2.1: tag 00, bit 2 clear; 1-29 in the tag, else 30 + 1, 2 or 3 bytes. */
  literal(bytes: Uint8Array): Buffer {
    return Buffer.concat([lengthTag(bytes.length, false), bytes])
  },
  /** §2.1 with bit 2 set: copy from the last offset. */
  repeat(length: number): Buffer {
    return lengthTag(length, true)
  },
  /** §2.3: offset 1-1024, length 4-273. */
  copy1(offset: number, length: number): Buffer {
    const o = offset - 1
    const code = length < 19 ? length - 4 : 15
    const tag = 1 | (code << 2) | ((o & 3) << 6)
    return Buffer.from(code === 15 ? [tag, o >>> 2, length - 18] : [tag, o >>> 2])
  },
  /** §2.4: offset 64-65599, length 4 and up. */
  copy2(offset: number, length: number): Buffer {
    const [code, extra] = longLength(length)
    return Buffer.concat([Buffer.from([2 | (code << 2)]), le(offset - 64, 2), extra])
  },
  /** §2.5.1: 1-4 literals, then a copy of 4-11 bytes from offset 64-65599. */
  fusedCopy2(literals: Uint8Array, offset: number, length: number): Buffer {
    const tag = 3 | ((literals.length - 1) << 3) | ((length - 4) << 5)
    return Buffer.concat([Buffer.from([tag]), le(offset - 64, 2), literals])
  },
  /** §2.5.2: 0-3 literals, then a copy from offset 65536-2162687. */
  copy3(literals: Uint8Array, offset: number, length: number): Buffer {
    const [code, extra] = longLength(length)
    const word = (3 | 4 | (literals.length << 3) | (code << 5) | ((offset - 65536) << 11)) >>> 0
    return Buffer.concat([le(word, 4), extra, literals])
  },
}

function lengthTag(length: number, repeat: boolean): Buffer {
  const flag = repeat ? 4 : 0
  if (length <= 29) return Buffer.from([flag | ((length - 1) << 3)])
  const v = length - 30
  const n = v < 0x100 ? 1 : v < 0x10000 ? 2 : 3
  return Buffer.concat([Buffer.from([flag | ((28 + n) << 3)]), le(v, n)])
}

/** Copy2/Copy3 lengths: 4-64 in the tag's 6 bits, else 64 + 1, 2 or 3 bytes (codes 61-63). */
function longLength(length: number): [number, Buffer] {
  if (length <= 64) return [length - 4, Buffer.alloc(0)]
  const v = length - 64
  const n = v < 0x100 ? 1 : v < 0x10000 ? 2 : 3
  return [60 + n, le(v, n)]
}

/** A block body (size varint + elements), without the indicator byte. */
export const block = (size: number, ...elements: Buffer[]) => Buffer.concat([varint(size), ...elements])

/**
 * Greedy LZ77 into MinLZ elements: a hash of 4 bytes finds the last place they were seen; a
 * match uses whichever copy its offset allows (a repeat when it is the last offset). Not a good
 * compressor: enough to make real compressed chunks of any content.
 */
export function encodeBlock(data: Uint8Array): Buffer {
  const parts: Buffer[] = [varint(data.length)]
  const seen = new Map<number, number>()
  const key = (i: number) => data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
  let last = 1
  let lit = 0 // first byte not yet emitted
  let i = 0
  while (i + 4 <= data.length) {
    const candidate = seen.get(key(i))
    seen.set(key(i), i)
    const offset = candidate === undefined ? 0 : i - candidate
    if (candidate === undefined || offset > 2162687) {
      i++
      continue
    }
    let length = 0
    while (i + length < data.length && data[candidate + length] === data[i + length]) length++
    if (length < 4) {
      i++
      continue
    }
    if (lit < i) parts.push(op.literal(data.subarray(lit, i)))
    parts.push(...copy(offset, length, last))
    last = offset
    i += length
    lit = i
  }
  if (lit < data.length) parts.push(op.literal(data.subarray(lit)))
  return Buffer.concat(parts)
}

function copy(offset: number, length: number, last: number): Buffer[] {
  if (offset === last) return [op.repeat(length)]
  if (offset >= 65536) return [op.copy3(Buffer.alloc(0), offset, length)]
  if (offset >= 64) return [op.copy2(offset, length)]
  // offsets under 64 only fit Copy1 (at most 273 bytes): a repeat carries the rest
  const first = Math.min(length, 273)
  const rest = length - first
  return rest === 0 ? [op.copy1(offset, first)] : [op.copy1(offset, first), op.repeat(rest)]
}

/** A whole stream of `data`: 1 MiB blocks, each compressed, or stored where that is no smaller. */
export function encodeStream(data: Uint8Array, blockSize = 1 << 20): Buffer {
  const parts = [streamIdentifier(Math.log2(blockSize) - 10)]
  for (let at = 0; at < data.length; at += blockSize) {
    const piece = data.subarray(at, at + blockSize)
    const b = encodeBlock(piece)
    parts.push(b.length < piece.length ? minlzChunk(b, piece) : uncompressedChunk(piece))
  }
  parts.push(eofChunk(data.length))
  return Buffer.concat(parts)
}

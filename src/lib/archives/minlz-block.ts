// The MinLZ block format (SPEC.md v1.0.1, "BLOCK FORMAT"): an uncompressed length, then tagged
// literals, repeats and copies. This implements the MinLZ specification v1.0 (decoding only; no
// dictionaries, which the spec leaves "TBD", and no Snappy fallback for blocks that do not start
// with 0, which it allows but does not require).
//
// Every read is bounds-checked against the input and every write against the declared size, and
// the declared size against the spec's maximum before anything is allocated: a hostile block
// fails with MinLZError, it cannot read or write out of bounds, allocate more than 8 MiB or loop
// (each step consumes at least one input byte). Where the spec is silent (the order of an offset
// and its extended length bytes), minio/minlz's reference decoder decides, as the spec says it
// should.

/** Input that is not valid MinLZ: the decoders throw nothing else for bad input. */
export class MinLZError extends Error {
  override name = 'MinLZError'
}

/** §1.1: "Maximum uncompressed block size is 8 MiB". */
export const MAX_BLOCK_SIZE = 8 << 20

/** Copy2 and fused Copy2 offsets are stored minus 64 (§2.4), Copy3 offsets minus 65536 (§2.5.2). */
const COPY2_MIN_OFFSET = 64
const COPY3_MIN_OFFSET = 65536

/**
 * An unsigned varint (base 128, little-endian groups) at `at`: its value and length, or
 * undefined when it runs past the input. Refused: more than 10 bytes (beyond 64 bits), and a
 * value above `max`, which is checked as the digits come so a huge one is never built.
 */
export function readVarint(src: Uint8Array, at: number, max: number): { value: number; length: number } | undefined {
  let value = 0
  for (let i = 0; i < 10; i++) {
    if (at + i >= src.length) return undefined
    const b = src[at + i]!
    value += (b & 0x7f) * 2 ** (7 * i)
    if (value > max) throw new MinLZError(`MinLZ block length ${value} is over the maximum of ${max}`)
    if ((b & 0x80) === 0) return { value, length: i + 1 }
  }
  throw new MinLZError('MinLZ block length is longer than a 64-bit varint')
}

/**
 * A whole block as the reference encoder writes one on its own (`.mzb`): the MinLZ indicator
 * byte 0 (§1.0), the uncompressed length (§1.1), then the encoded body. A length of 0 means the
 * rest of the block is stored as it is.
 */
export function decodeBlock(block: Uint8Array): Buffer {
  if (block.length === 0) throw new MinLZError('empty MinLZ block (not even its indicator byte)')
  if (block[0] !== 0) throw new MinLZError('not a MinLZ block: its first byte is not 0 (Snappy/S2 blocks are not decoded)')
  if (block.length === 1) return Buffer.alloc(0)
  const size = readVarint(block, 1, MAX_BLOCK_SIZE)
  if (!size) throw new MinLZError('MinLZ block ends inside its length')
  const body = block.subarray(1 + size.length)
  if (size.value === 0) return Buffer.from(body)
  return decodeBody(body, size.value)
}

/**
 * The encoded body of a block whose uncompressed length (`size`, already checked against the
 * maximum the caller allows) has been read: exactly `size` bytes or MinLZError.
 */
export function decodeBody(src: Uint8Array, size: number): Buffer {
  // §1.1: "A compressed block may not be bigger than the decompressed block after reading the header."
  if (size < src.length) throw new MinLZError(`MinLZ block of ${src.length} bytes declares only ${size} decompressed`)
  if (size > MAX_BLOCK_SIZE) throw new MinLZError(`MinLZ block declares ${size} bytes, over the 8 MiB maximum`)
  const dst = Buffer.allocUnsafe(size)
  let s = 0 // next input byte
  let d = 0 // bytes written
  let offset = 1 // §2.2: repeats reuse the last offset, 1 at the start of a block

  const need = (n: number, what: string) => {
    if (s + n > src.length) throw new MinLZError(`MinLZ block ends inside ${what} (input byte ${s}, output byte ${d})`)
  }
  const readLE = (n: number) => {
    let v = 0
    for (let i = 0; i < n; i++) v |= src[s + i]! << (8 * i)
    s += n
    return v >>> 0
  }
  const literals = (n: number) => {
    need(n, 'literals')
    if (n > size - d) throw new MinLZError(`MinLZ literals run past the declared size ${size} (output byte ${d})`)
    dst.set(src.subarray(s, s + n), d)
    s += n
    d += n
  }
  /** Copy2 and Copy3 lengths (§2.4, §2.5.2): 0-60 → 4+v; 61, 62, 63 → 64 + 1, 2 or 3 bytes. */
  const longLength = (v: number, what: string) => {
    if (v <= 60) return v + 4
    need(v - 60, `${what} length`)
    return readLE(v - 60) + 64
  }

  while (s < src.length) {
    const tag = src[s++]!
    let length: number
    switch (tag & 3) {
      case 0: {
        // §2.1 literals, or (bit 2) a repeat of the last offset; length 0-28 → 1+v, 29-31 → 30 + 1-3 bytes
        const v = tag >>> 3
        if (v < 29) length = v + 1
        else {
          need(v - 28, 'a literal length')
          length = readLE(v - 28) + 30
        }
        if ((tag & 4) === 0) {
          literals(length)
          continue
        }
        break
      }
      case 1: {
        // §2.3 Copy1: bits 2-5 length, 6-7 the offset's low bits, a byte of upper bits, then the extra length byte
        need(1, 'a Copy1 offset')
        offset = ((src[s++]! << 2) | (tag >>> 6)) + 1
        const v = (tag >>> 2) & 15
        if (v < 15) length = v + 4
        else {
          need(1, 'a Copy1 length')
          length = src[s++]! + 18
        }
        break
      }
      case 2: {
        // §2.4 Copy2: bits 2-7 length, a 16-bit offset (minus 64), then any extended length bytes
        need(2, 'a Copy2 offset')
        offset = readLE(2) + COPY2_MIN_OFFSET
        length = longLength(tag >>> 2, 'a Copy2')
        break
      }
      default: {
        // §2.5: bit 2 says Copy3 or fused Copy2; bits 3-4 the number of literals emitted first
        const fused = (tag >>> 3) & 3
        if ((tag & 4) === 0) {
          // §2.5.1 fused Copy2: 1-4 literals after the 16-bit offset, copy length 4-11 in bits 5-7
          need(2, 'a fused Copy2 offset')
          offset = readLE(2) + COPY2_MIN_OFFSET
          length = (tag >>> 5) + 4
          literals(fused + 1)
        } else {
          // §2.5.2 Copy3: bits 5-10 length, 11-31 the offset (minus 65536), extended length, then 0-3 literals
          need(3, 'a Copy3 offset')
          const word = (tag | (readLE(3) << 8)) >>> 0
          offset = (word >>> 11) + COPY3_MIN_OFFSET
          length = longLength((word >>> 5) & 63, 'a Copy3')
          if (fused > 0) literals(fused)
        }
      }
    }
    // §2.2: a copy may not reach before the start of the block nor past its declared size
    if (offset > d) throw new MinLZError(`MinLZ copy from ${offset} bytes back at output byte ${d}, before the start of the block`)
    if (length > size - d) throw new MinLZError(`MinLZ copy of ${length} bytes runs past the declared size ${size} (output byte ${d})`)
    copyBack(dst, d, offset, length)
    d += length
  }
  if (d !== size) throw new MinLZError(`MinLZ block decodes to ${d} bytes but declares ${size}`)
  return dst
}

/** Copy `length` bytes from `offset` back; an overlapping copy repeats what it has just written (RLE). */
function copyBack(dst: Buffer, d: number, offset: number, length: number): void {
  const from = d - offset
  // each pass copies from `from` what lies a multiple of `offset` back, never overlapping itself,
  // so a run of length L takes log2(L / offset) passes rather than L byte copies
  let done = 0
  while (done < length) {
    const n = Math.min(offset + done, length - done)
    dst.copyWithin(d + done, from, from + n)
    done += n
  }
}

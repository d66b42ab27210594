// The MinLZ block decoder (src/lib/archives/minlz-block.ts) against SPEC.md v1.0.1 and the
// reference material in ../shared/upstream/minlz: the block the reference encoder made decodes
// to its text; every element the spec defines, built by its tables, decodes as the spec says;
// what the spec forbids, truncations and random corruption fail with MinLZError and nothing
// else; the reference decoder's regression inputs are refused as the reference refuses them.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { crc32c, maskedCrc32c } from '../../src/lib/archives/crc32c.js'
import { extractArchive } from '../../src/lib/archives/index.js'
import { decodeBlock, MAX_BLOCK_SIZE, MinLZError, readVarint } from '../../src/lib/archives/minlz-block.js'
import { seededRandom } from '../helpers/fake-queue/index.js'
import { block, maskedCrc, minlzDir, op, referenceBlock, referenceText, varint } from '../helpers/minlz.js'

/** A standalone block: the MinLZ indicator byte 0 (§1.0), then the length and elements. */
const mzb = (...parts: Buffer[]) => Buffer.concat([Buffer.from([0]), ...parts])
const bytes = (s: string) => Buffer.from(s, 'latin1')

describe('MinLZ blocks (SPEC.md v1.0.1)', () => {
  it('computes CRC-32C as RFC 3720 B.4 gives it, masked as §3 says', () => {
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa)
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43)
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e)
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c)
    for (const n of [0, 1, 7, 8, 9, 1000]) {
      const data = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37) & 0xff))
      assert.equal(maskedCrc32c(data), maskedCrc(data), `masked, ${n} bytes`)
    }
  })

  it('decodes the block the reference encoder made to the exact text', () => {
    const out = decodeBlock(referenceBlock())
    assert.ok(out.equals(referenceText()), `${out.length} bytes, want ${referenceText().length}`)
  })

  it('decodes the spec’s own examples, an empty block and a stored one', () => {
    // §2.2: "xababab" as <literal: "xab"> <copy: offset=2 length=4>: literal tag (3−1)<<3, then
    // Copy1 with length code 0 and offset−1 = 1 in bits 6-7, upper offset byte 0
    const xababab = Buffer.from([0, 7, 0x10, ...bytes('xab'), 0x41, 0x00])
    assert.ok(mzb(block(7, op.literal(bytes('xab')), op.copy1(2, 4))).equals(xababab), 'the helper writes the spec’s layout')
    assert.equal(decodeBlock(xababab).toString(), 'xababab')
    // §2.2: "<literal: "x"> <repeat: length=4>" gives "xxxxx": the repeat offset starts at 1
    const xxxxx = Buffer.from([0, 5, 0x00, ...bytes('x'), 0x1c])
    assert.ok(mzb(block(5, op.literal(bytes('x')), op.repeat(4))).equals(xxxxx))
    assert.equal(decodeBlock(xxxxx).toString(), 'xxxxx')
    // §1.0: a 0-byte block is the single byte 0; §1.1: length 0, the rest emitted as it is
    assert.equal(decodeBlock(Buffer.from([0])).length, 0)
    assert.equal(decodeBlock(Buffer.from([0, 0, ...bytes('stored as it is')])).toString(), 'stored as it is')
  })

  it('decodes every element the spec defines, in each of its length forms', () => {
    const random = seededRandom(19)
    const noise = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)))
    const expected: number[] = []
    const elements: Buffer[] = []
    const literal = (b: Buffer) => {
      elements.push(op.literal(b))
      expected.push(...b)
    }
    let last = 1
    /** An element that copies `length` bytes from `offset` back, after `lits` (fused) literals. */
    const copy = (encoded: Buffer, offset: number, length: number, lits: Buffer = Buffer.alloc(0)) => {
      elements.push(encoded)
      expected.push(...lits)
      for (let i = 0; i < length; i++) expected.push(expected[expected.length - offset]!)
      last = offset
    }
    const repeat = (length: number) => copy(op.repeat(length), last, length)
    // §2.1 literal lengths: in the tag (1-29), then 30 + 1, 2 and 3 bytes
    for (const n of [70_000, 300, 100, 29, 1]) literal(noise(n))
    // §2.3 Copy1: offsets 1-1024, lengths 4-18 in the tag, 19-273 with the extra byte (overlapping too)
    copy(op.copy1(1, 4), 1, 4)
    copy(op.copy1(1024, 18), 1024, 18)
    copy(op.copy1(700, 19), 700, 19)
    copy(op.copy1(5, 273), 5, 273)
    // §2.1 repeats, every length form: they copy from the last offset (5 here)
    for (const n of [1, 29, 30, 300, 70_000, 2_000_000]) repeat(n)
    literal(noise(3000))
    // §2.4 Copy2: offsets 64-65599, lengths in the tag (4-64) and with 1, 2 and 3 extra bytes
    copy(op.copy2(64, 4), 64, 4)
    copy(op.copy2(65_599, 64), 65_599, 64)
    copy(op.copy2(1000, 65), 1000, 65)
    copy(op.copy2(2000, 320), 2000, 320)
    copy(op.copy2(100, 70_000), 100, 70_000)
    repeat(7)
    // §2.5.1 fused Copy2: 1-4 literals, then 4-11 bytes
    for (const [lits, offset, length] of [[1, 64, 4], [2, 300, 7], [3, 40_000, 9], [4, 65_599, 11]] as const) {
      const l = noise(lits)
      copy(op.fusedCopy2(l, offset, length), offset, length, l)
    }
    // §2.5.2 Copy3: offsets 65536-2162687, 0-3 literals, lengths in the tag and with 1-3 extra bytes
    for (const [lits, offset, length] of [[0, 65_536, 4], [1, 100_000, 64], [2, 2_162_687, 65], [3, 1_000_000, 400], [0, 70_000, 100_000]] as const) {
      const l = noise(lits)
      copy(op.copy3(l, offset, length), offset, length, l)
    }
    repeat(4)
    literal(noise(10))
    const out = decodeBlock(mzb(block(expected.length, ...elements)))
    assert.equal(out.length, expected.length)
    assert.ok(out.equals(Buffer.from(expected)), 'each element as the spec defines it')
  })

  it('refuses what the spec does not allow, with MinLZError', () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['no bytes at all', Buffer.alloc(0), /empty/],
      ['a first byte other than 0 (§1.0: Snappy fallback is optional; not offered)', Buffer.from([1, 0]), /first byte is not 0/],
      ['a length cut short', Buffer.from([0, 0x80]), /ends inside its length/],
      ['a length over 8 MiB (§1.1), refused before any allocation', mzb(varint(MAX_BLOCK_SIZE + 1)), /over the maximum/],
      ['a length of 2^40', mzb(varint(2 ** 40), op.literal(bytes('x'))), /over the maximum/],
      ['a length longer than a 64-bit varint', mzb(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0])), /64-bit/],
      ['more bytes than it decompresses to (§1.1)', mzb(block(2, op.literal(bytes('abc')))), /declares only/],
      ['a copy from before the block (§2.2)', mzb(block(8, op.literal(bytes('ab')), op.copy1(3, 4))), /before the start/],
      ['a repeat at the start (offset 1 with nothing written)', mzb(block(4, op.repeat(4))), /before the start/],
      ['literals past the declared size', mzb(block(20, op.literal(bytes('ab')), op.copy1(2, 14), op.literal(bytes('abcdefg')))), /past the declared size/],
      ['a copy past the declared size', mzb(block(10, op.literal(bytes('ab')), op.copy1(2, 12))), /past the declared size/],
      ['fewer bytes than declared', mzb(block(10, op.literal(bytes('ab')))), /decodes to 2 bytes but declares 10/],
      ['literals cut short', mzb(block(40, Buffer.from([29 << 3, 5]), bytes('abc'))), /ends inside literals/],
      ['a literal length cut short', mzb(block(40, Buffer.from([31 << 3, 1]))), /ends inside a literal length/],
      ['a Copy1 without its offset', mzb(block(8, op.literal(bytes('abcd')), Buffer.from([0x01]))), /Copy1 offset/],
      ['a Copy1 without its extra length', mzb(block(40, op.literal(bytes('abcd')), Buffer.from([0x3d, 0]))), /Copy1 length/],
      ['a Copy2 without its offset', mzb(block(80, op.literal(bytes('abcd')), Buffer.from([0x02, 0]))), /Copy2 offset/],
      ['a Copy2 without its extra length', mzb(block(80, op.literal(bytes('abcd')), Buffer.from([0xfe, 0, 0, 1]))), /Copy2 length/],
      ['a fused Copy2 without its literals', mzb(block(80, op.literal(bytes('abcd')), Buffer.from([0x1b, 0, 0]), bytes('a'))), /literals/],
      ['a Copy3 cut short', mzb(block(80, op.literal(bytes('abcd')), Buffer.from([0x07, 0, 0]))), /Copy3 offset/],
      ['a Copy3 without its extra length', mzb(block(80, op.literal(bytes('abcd')), Buffer.from([0x07 | (63 << 5) & 0xff, 0x07, 0, 0, 1]))), /Copy3 length/],
    ]
    for (const [name, input, message] of cases) assert.throws(() => decodeBlock(input), (err: Error) => err instanceof MinLZError && message.test(err.message), name)
  })

  it('fails cleanly on every truncation of the reference block', () => {
    const whole = referenceBlock()
    // [0] alone is the valid empty block (§1.0); every longer prefix is cut short somewhere
    for (let n = 2; n < whole.length; n++) assert.throws(() => decodeBlock(whole.subarray(0, n)), MinLZError, `first ${n} bytes`)
    assert.throws(() => decodeBlock(Buffer.concat([whole, Buffer.from([0])])), MinLZError, 'a byte too many')
  })

  it('on random corruption either fails with MinLZError or gives exactly the declared size', () => {
    const random = seededRandom(5)
    const whole = referenceBlock()
    let refused = 0
    const mutate = (b: Buffer): Buffer => {
      const at = 1 + Math.floor(random() * (b.length - 1))
      const r = random()
      if (r < 0.5) {
        const flipped = Buffer.from(b)
        flipped[at]! ^= 1 << Math.floor(random() * 8)
        return flipped
      }
      if (r < 0.75) return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(random() * 8))])
      return Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(random() * 256)]), b.subarray(at)])
    }
    for (let i = 0; i < 3000; i++) {
      const corrupt = mutate(whole)
      let out: Buffer
      try {
        out = decodeBlock(corrupt)
      } catch (err) {
        assert.ok(err instanceof MinLZError, `mutation ${i}: ${(err as Error).stack}`)
        refused++
        continue
      }
      const size = readVarint(corrupt, 1, MAX_BLOCK_SIZE)!
      // a declared length of 0 stores the rest as it is (§1.1)
      const want = size.value === 0 ? corrupt.length - 1 - size.length : size.value
      assert.equal(out.length, want, `mutation ${i} decodes to its declared size`)
    }
    assert.ok(refused > 1500, `${refused} of 3000 refused`)
  })

  it('refuses the reference decoder’s regression inputs as the reference does', async () => {
    // dec-block-regressions.zip (minio/minlz testdata, fed to its FuzzDecodeBlock) holds two
    // inputs, neither a MinLZ block: 00cfa6a6… (30 15 00) is a Snappy/S2 block and b44f70ce…
    // an S2 stream ("S2sTwO"). The reference block decoder refuses both, "first byte is not 0"
    // (internal/reference/decoder.go:34-35 in minlz v1.0.1); so does this one, which offers no
    // Snappy fallback either. (As streams: stream.test cases.)
    const dir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-minlz-regressions-'))
    await extractArchive(path.join(minlzDir, 'dec-block-regressions.zip'), dir, 'zip')
    const names = readdirSync(dir).sort()
    assert.deepEqual(names, ['00cfa6a67a2298d36156884346cc93d03ae62b3c', 'b44f70cefc15c48f81d2bb1c8f8c2a2e2329f03e'])
    for (const name of names) assert.throws(() => decodeBlock(readFileSync(path.join(dir, name))), /first byte is not 0/, name)
  })
})

// The MinLZ stream decoder (src/lib/archives/minlz.ts): the reference encoder's block, framed
// here chunk by chunk as SPEC.md v1.0.1 lays streams out (stream identifier, padding, skippable
// chunks, the three data chunk types with their checksums, EOF), decodes to its text however
// the bytes arrive; every chunk the spec makes a decoder refuse is refused with MinLZError;
// declared sizes are checked before their bytes are waited for; output waits for its reader.
// Where the spec leaves a choice, the expected outcome is minio/minlz v1.0.1's stream reader's
// (reader.go), the one generic-worker decodes `mz` mounts with.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { extractArchive } from '../../src/lib/archives/index.js'
import { seededRandom } from '../helpers/fake-queue/index.js'
import { MinLZError, minlzDecoder } from '../../src/lib/archives/minlz.js'
import { block, chunk, eofChunk, maskedCrc, minlzChunk, minlzCompressedCrcChunk, minlzDir, op, paddingChunk, referenceBlock, referenceText, streamIdentifier, uncompressedChunk, withoutIndicator } from '../helpers/minlz.js'

/** Decode `input` fed in pieces of `pieceSize` bytes. */
export async function decodeStream(input: Buffer, pieceSize = 65536): Promise<Buffer> {
  const pieces: Buffer[] = []
  for (let i = 0; i < input.length; i += pieceSize) pieces.push(input.subarray(i, i + pieceSize))
  const out: Buffer[] = []
  const sink = new Writable({ write: (c: Buffer, _e, done) => (out.push(c), done()) })
  await pipeline(Readable.from(pieces), minlzDecoder(), sink)
  return Buffer.concat(out)
}

const le32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n)
  return b
}

const refused = (input: Buffer, message: RegExp, name: string) =>
  assert.rejects(decodeStream(input), (err: Error) => err instanceof MinLZError && message.test(err.message), name)

describe('MinLZ streams (SPEC.md v1.0.1)', function () {
  this.timeout(60_000)
  const text = referenceText()
  const body = withoutIndicator(referenceBlock()) // §4.4: a chunk holds the block without its byte 0
  /** §4.1.1: 14 168 bytes need 2^14: indicator 4. */
  const id = streamIdentifier(4)
  const framed = Buffer.concat([
    id,
    paddingChunk(7), // §4.7
    chunk(0x40, Buffer.from('s2idx\x00…an index a decoder may skip')), // §4.12
    chunk(0x41, Buffer.from('reserved, skippable')), // §4.9
    chunk(0x80, Buffer.from('user data')), // §4.10
    chunk(0xbf, Buffer.alloc(0)),
    minlzChunk(body, text), // §4.4
    minlzCompressedCrcChunk(body), // §4.5
    uncompressedChunk(text.subarray(0, 1000)), // §4.2
    eofChunk(2 * text.length + 1000), // §4.6
  ])
  const framedText = Buffer.concat([text, text, text.subarray(0, 1000)])

  it('decodes the reference block framed per the spec, skipping what may be skipped', async () => {
    assert.ok((await decodeStream(framed)).equals(framedText))
  })

  it('gives the same bytes however the input is cut', async () => {
    for (const size of [1, 3, 4, 5, 4096]) assert.ok((await decodeStream(framed, size)).equals(framedText), `pieces of ${size}`)
  })

  it('decodes concatenated streams, an EOF chunk with no length, an EOF-only stream and an empty file, as the reference reader does', async () => {
    // §4.6: "If this is the first chunk in the stream, the stream is empty"; streams may follow
    // an EOF (§4.1) and each identifier restarts the count; an empty EOF is not checked
    const more = Buffer.concat([streamIdentifier(13), minlzChunk(body, text), eofChunk()])
    const out = await decodeStream(Buffer.concat([eofChunk(0), framed, paddingChunk(3), more, framed]))
    assert.ok(out.equals(Buffer.concat([framedText, text, framedText])))
    // an empty file: reader.go:259 lets input end at a chunk boundary before any identifier
    assert.equal((await decodeStream(Buffer.alloc(0))).length, 0)
    // skippable chunks before the identifier: skipped there too (reader.go:273-283)
    assert.ok((await decodeStream(Buffer.concat([paddingChunk(2), framed]))).equals(framedText))
    // a new identifier before an EOF chunk restarts the count the EOF checks (reader.go:500-510 resets r.blockStart)
    const restarted = Buffer.concat([id, minlzChunk(body, text), id, minlzChunk(body, text), eofChunk(text.length)])
    assert.ok((await decodeStream(restarted)).equals(Buffer.concat([text, text])))
    await refused(Buffer.concat([id, minlzChunk(body, text), id, minlzChunk(body, text), eofChunk(2 * text.length)]), /EOF chunk says 28336/, 'the count restarted')
  })

  it('skips a skippable chunk of the largest size (16 MiB − 1)', async () => {
    const big = chunk(0x80, Buffer.alloc(0xffffff))
    assert.ok((await decodeStream(Buffer.concat([id, big, minlzChunk(body, text), eofChunk(text.length)]))).equals(text))
  })

  it('refuses a chunk whose checksum does not match (§3)', async () => {
    const corrupt = (c: Buffer, at: number) => {
      const copy = Buffer.from(c)
      copy[at]! ^= 0x10
      return copy
    }
    const frames = { 'type 0x02': minlzChunk(body, text), 'type 0x03': minlzCompressedCrcChunk(body), 'type 0x01': uncompressedChunk(text.subarray(0, 100)) }
    for (const [name, good] of Object.entries(frames)) {
      const stream = (c: Buffer) => Buffer.concat([id, c, eofChunk()])
      assert.ok((await decodeStream(stream(good))).length > 0, name)
      await refused(stream(corrupt(good, 4)), /CRC-32C/, `${name}: checksum`)
      await refused(stream(corrupt(good, good.length - 1)), /CRC-32C|MinLZ/, `${name}: data`)
    }
    // type 0x03's checksum covers the compressed bytes after the block's length (reader.go:326,
    // 341-344): one over the whole block, length included, is wrong
    const overWhole = chunk(0x03, Buffer.concat([le32(maskedCrc(body)), body]))
    await refused(Buffer.concat([id, overWhole, eofChunk()]), /CRC-32C check \(of the compressed bytes\)/, 'type 0x03 checksum over the length too')
  })

  it('refuses what the spec does not allow, each with MinLZError', async () => {
    const data = minlzChunk(body, text)
    const one = (...chunks: Buffer[]) => Buffer.concat([id, ...chunks, eofChunk()])
    const xs = Buffer.alloc(16385, 'x')
    const cases: Array<[string, Buffer, RegExp]> = [
      ['data before any stream identifier (§4.1)', Buffer.concat([data, eofChunk()]), /identifier must come first/],
      ['stored data before any stream identifier', uncompressedChunk(text), /identifier must come first/],
      ['data after an EOF chunk without a new identifier', Buffer.concat([framed, uncompressedChunk(text)]), /identifier must come first/],
      ['a stream identifier other than "MinLz"', chunk(0xff, Buffer.from('MinLZ\x04')), /bad stream identifier/],
      ['a Snappy stream', chunk(0xff, Buffer.from('sNaPpY')), /Snappy stream/],
      ['an S2 stream (reader.go:518-521, fallback off as mholt/archives leaves it)', chunk(0xff, Buffer.from('S2sTwO')), /S2 stream/],
      ['a stream identifier of 7 bytes', chunk(0xff, Buffer.from('MinLz\x04\x00')), /identifier of 7 bytes/],
      ['reserved bits 6-7 of the block size byte set (§4.1)', Buffer.concat([streamIdentifier(0x44), data, eofChunk()]), /reserved bits/],
      ['a maximum block size indicator over 13 (§4.1.1: must reject)', Buffer.concat([streamIdentifier(14), data, eofChunk()]), /at most 2\^23/],
      ['a chunk larger than the declared maximum block size', Buffer.concat([streamIdentifier(0), data, eofChunk()]), /over the stream's maximum block size 1024/],
      ['a block declaring more than the maximum block size', one(minlzChunk(block(16385, op.literal(Buffer.from('x')), op.repeat(16384)), xs)), /block length 16385 is over the maximum of 16384/],
      ['stored data over the maximum block size (§4.2)', Buffer.concat([streamIdentifier(0), uncompressedChunk(Buffer.alloc(1025)), eofChunk()]), /over the stream's maximum block size 1024/],
      ['a legacy Snappy chunk (§4.3)', one(chunk(0x00, Buffer.alloc(8))), /legacy/],
      ...[0x04, 0x1f, 0x21, 0x3f].map((t): [string, Buffer, RegExp] => [`reserved unskippable chunk 0x${t.toString(16)} (§4.8)`, one(chunk(t, Buffer.alloc(3))), /reserved unskippable/]),
      ...[0xc0, 0xfd].map((t): [string, Buffer, RegExp] => [`user unskippable chunk 0x${t.toString(16)} (§4.11)`, one(chunk(t, Buffer.alloc(3))), /user-defined unskippable/]),
      ['a compressed chunk of 0 decompressed bytes (§4.4)', one(minlzChunk(Buffer.from([0, 0x00, 0x61]), Buffer.alloc(0))), /0 bytes/],
      ['a compressed chunk larger than it decompresses to (§4.4)', one(minlzChunk(block(2, op.literal(Buffer.from('abc'))), Buffer.from('ab'))), /declares only/],
      ['a compressed chunk with no room for its checksum', one(chunk(0x02, Buffer.alloc(3))), /no room for its checksum/],
      ['a chunk that is only a checksum', one(chunk(0x02, Buffer.alloc(4))), /ends inside its block length/],
      ['an EOF chunk with the wrong length (§4.6)', Buffer.concat([id, data, eofChunk(text.length + 1)]), /decoded to 14168 bytes but its EOF chunk says 14169/],
      ['an EOF chunk of 11 bytes (§4.6: at most 10)', Buffer.concat([id, chunk(0x20, Buffer.alloc(11))]), /EOF chunk of 11 bytes/],
      ['an EOF chunk with bytes after its length', Buffer.concat([id, chunk(0x20, Buffer.from([0, 0]))]), /bytes after its length/],
      ['an EOF length over 64 bits', Buffer.concat([id, chunk(0x20, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]))]), /over 64 bits/],
      ['no EOF chunk (reader.go:259: readFull refuses the end while wantEOF, set at :1025)', Buffer.concat([id, data]), /without its EOF chunk/],
      ['a stream cut inside a chunk', framed.subarray(0, framed.length - 3), /middle of a chunk/],
    ]
    for (const [name, input, message] of cases) await refused(input, message, name)
  })

  it('fails cleanly on every truncation of a framed stream', async () => {
    // every cut within the first chunks, then every 37th: only the whole stream (and nothing) decodes
    for (let n = 1; n < framed.length; n += n < 200 ? 1 : 37) await assert.rejects(decodeStream(framed.subarray(0, n)), MinLZError, `first ${n} bytes`)
  })

  it('on random corruption either fails with MinLZError or decodes, and always ends', async () => {
    const random = seededRandom(11)
    const pick = (n: number) => Math.floor(random() * n)
    let decoded = 0
    for (let i = 0; i < 1000; i++) {
      const b = Buffer.from(framed)
      const at = pick(b.length)
      // chunk headers are where a stream decoder's bounds live: hit the first ones often
      const where = random() < 0.3 ? pick(40) : at
      if (random() < 0.7) b[where]! ^= 1 << pick(8)
      const corrupt = random() < 0.7 ? b : Buffer.concat([b.subarray(0, at), Buffer.from([pick(256), pick(256)]), b.subarray(at + pick(4))])
      try {
        await decodeStream(corrupt, 1 + pick(5000))
        decoded++
      } catch (err) {
        assert.ok(err instanceof MinLZError, `mutation ${i}: ${(err as Error).stack}`)
      }
    }
    assert.ok(decoded < 500, `${decoded} of 1000 corrupt streams decoded`)
  })

  it('refuses a chunk declared too large at its header, before its bytes arrive', async () => {
    for (const type of [0x01, 0x02, 0x03]) {
      const d = minlzDecoder()
      d.resume()
      d.write(Buffer.concat([streamIdentifier(13), Buffer.from([type, 0xff, 0xff, 0xff])])) // 16 MiB − 1 > 8 MiB + 6
      const [err] = (await Promise.race([once(d, 'error'), sleep(5000).then(() => assert.fail('still waiting for the chunk'))])) as [Error]
      assert.ok(err instanceof MinLZError, String(err))
      assert.match(err.message, /over the stream's maximum block size 8388608/)
    }
  })

  it('waits for its reader: 256 MiB from a few hundred bytes is decoded a block at a time', async () => {
    const size = 8 << 20
    const xs = Buffer.alloc(size, 'x')
    const tiny = minlzChunk(block(size, op.literal(Buffer.from('x')), op.repeat(size - 1)), xs) // 8 MiB from 16 bytes
    const blocks = 32
    const input = Buffer.concat([streamIdentifier(13), ...Array.from({ length: blocks }, () => tiny), eofChunk(blocks * size)])
    assert.ok(input.length < 1000)
    const d = minlzDecoder()
    d.end(input)
    await sleep(200)
    assert.ok(d.readableLength <= size, `${d.readableLength} bytes decoded ahead of a reader that has read nothing`)
    let total = 0
    for await (const c of d) {
      assert.ok(d.readableLength <= size, 'never more than a block ahead')
      total += (c as Buffer).length
    }
    assert.equal(total, blocks * size)
  })

  it('refuses the reference decoder’s regression inputs as streams, as its stream reader does', async () => {
    // minlz v1.0.1's reader: 00cfa6a6… (3 bytes) is cut inside its first chunk header, ErrCorrupt
    // (reader.go:196-204, 259); b44f70ce… is an S2 stream, ErrUnsupported (reader.go:518-521)
    const dir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-minlz-regressions-'))
    await extractArchive(path.join(minlzDir, 'dec-block-regressions.zip'), dir, 'zip')
    await refused(readFileSync(path.join(dir, '00cfa6a67a2298d36156884346cc93d03ae62b3c')), /middle of a chunk/, '00cfa6a6…')
    await refused(readFileSync(path.join(dir, 'b44f70cefc15c48f81d2bb1c8f8c2a2e2329f03e')), /S2 stream/, 'b44f70ce…')
  })
})

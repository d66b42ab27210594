// Snappy's framing format (the `.sz` files of generic-worker's mount formats): a stream
// identifier, then chunks of snappy-compressed or stored data, each with the masked CRC-32C of
// its uncompressed bytes. Blocks are decoded by snappyjs (pure JS); the framing and its checks
// are here. S2's extended streams ("S2sTwO") are refused with a message.

import { Transform, type TransformCallback } from 'node:stream'
import snappy from 'snappyjs'
import { maskedCrc32c } from './crc32c.js'

const STREAM_ID = Buffer.from('sNaPpY')

export function snappyFramedDecoder(): Transform {
  let pending: Buffer = Buffer.alloc(0)
  let sawIdentifier = false
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
      try {
        while (pending.length >= 4) {
          const type = pending[0]!
          // a stream starts with its identifier: anything else is not this format, say so at once
          if (!sawIdentifier && type !== 0xff) throw new Error('not a snappy-framed stream (no stream identifier)')
          const length = pending.readUIntLE(1, 3)
          if (pending.length < 4 + length) break
          const body = pending.subarray(4, 4 + length)
          pending = pending.subarray(4 + length)
          if (type === 0xff) {
            if (body.equals(Buffer.from('S2sTwO'))) throw new Error('S2 extended streams are not supported, only snappy-framed ones')
            if (!body.equals(STREAM_ID)) throw new Error('not a snappy-framed stream (bad stream identifier)')
            sawIdentifier = true
            continue
          }
          if (!sawIdentifier) throw new Error('not a snappy-framed stream (no stream identifier)')
          if (type === 0x00 || type === 0x01) {
            const expected = body.readUInt32LE(0)
            const data = type === 0x00 ? Buffer.from(snappy.uncompress(body.subarray(4))) : body.subarray(4)
            if (maskedCrc32c(data) !== expected) throw new Error('snappy-framed chunk fails its CRC-32C check')
            this.push(data)
          } else if (type <= 0x7f) {
            throw new Error(`snappy-framed stream has an unskippable chunk of reserved type ${type}`)
          }
          // 0x80–0xfe: padding and skippable chunks
        }
        done()
      } catch (err) {
        done(err as Error)
      }
    },
    flush(done: TransformCallback) {
      done(pending.length > 0 ? new Error('snappy-framed stream ends in the middle of a chunk') : null)
    },
  })
}

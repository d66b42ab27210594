// sha256 of a file's bytes, streamed: chain of trust, mount content checks and replay all need it.

import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

/** Hex sha256 and size of a file, read as a stream (never whole in memory). */
export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file)) {
    size += (chunk as Buffer).length
    hash.update(chunk as Buffer)
  }
  return { sha256: hash.digest('hex'), size }
}

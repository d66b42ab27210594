// One attempt at downloading an `s3` or `reference` artifact's bytes to a file, as docker-worker's
// artifact download did with `request` (src/util/artifact_download.js:36-91): redirects followed,
// gzip accepted and undone, a `Download Progress: NN.NN%` line every 5 seconds (the bytes as they
// came over the wire, against the response's content-length), and the download refused when those
// two differ. Returns the sha256 of the bytes written and how many bytes came over the wire.
//
// Object-service artifacts keep taskcluster-client's download, which checks their hashes; it does
// not expose the response, so they have no progress lines.

import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import http, { STATUS_CODES, type IncomingMessage } from 'node:http'
import https from 'node:https'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createInflate } from 'node:zlib'

/** An HTTP refusal, in docker-worker's words: the status text, with the code beside it. */
export class DownloadRefused extends Error {
  constructor(readonly statusCode: number) {
    super(STATUS_CODES[statusCode] ?? `HTTP ${statusCode}`)
  }
}

const MAX_REDIRECTS = 10 // request's default maxRedirects
const TIMEOUT_MS = 60_000 // src/util/artifact_download.js:45
const PROGRESS_EVERY_MS = 5000 // :62-68

function get(url: string, signal: AbortSignal, redirects = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http
    const req = client.get(url, { headers: { 'accept-encoding': 'gzip, deflate' }, signal, timeout: TIMEOUT_MS }, (res) => {
      const status = res.statusCode ?? 0
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume()
        if (redirects >= MAX_REDIRECTS) return reject(new Error(`Exceeded maxRedirects. Probably stuck in a redirect loop ${url}`))
        return resolve(get(new URL(res.headers.location, url).toString(), signal, redirects + 1))
      }
      resolve(res)
    })
    req.on('timeout', () => req.destroy(new Error('ESOCKETTIMEDOUT')))
    req.on('error', reject)
  })
}

export async function downloadWithProgress(url: string, file: string, progress: (line: string) => void, signal: AbortSignal): Promise<{ sha256: string; received: number }> {
  const res = await get(url, signal)
  if (res.statusCode !== 200) {
    res.resume()
    throw new DownloadRefused(res.statusCode ?? 0)
  }
  // parseInt, as docker-worker: a response without content-length fails the size check below
  const expected = Number.parseInt(String(res.headers['content-length']))
  let received = 0
  res.on('data', (chunk: Buffer) => (received += chunk.length))
  const timer = setInterval(() => {
    if (received) progress(`Download Progress: ${((received / expected) * 100).toFixed(2)}%`)
  }, PROGRESS_EVERY_MS)
  const hash = createHash('sha256')
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      done(null, chunk)
    },
  })
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase()
  try {
    if (encoding === 'gzip' || encoding === 'deflate') await pipeline(res, encoding === 'gzip' ? createGunzip() : createInflate(), hashing, createWriteStream(file), { signal })
    else await pipeline(res, hashing, createWriteStream(file), { signal })
  } finally {
    clearInterval(timer)
  }
  if (received !== expected) throw new Error(`Expected response size is '${expected}' but received '${received}'`)
  return { sha256: hash.digest('hex'), received }
}

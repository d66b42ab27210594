// PUT a body to a URL (s3-style artifact upload): a file is streamed, never buffered.

import { createReadStream } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { pipeline } from 'node:stream/promises'

export class HttpStatusError extends Error {
  constructor(
    readonly statusCode: number,
    readonly url: string,
    body: string,
  ) {
    super(`PUT ${new URL(url).origin}${new URL(url).pathname} answered ${statusCode}${body ? `: ${body.slice(0, 300)}` : ''}`)
  }
}

/** PUT a file (streamed from disk) or a small body already in memory. */
export async function putFile(url: string, file: string | Buffer, headers: Record<string, string | number>, signal?: AbortSignal): Promise<void> {
  const target = new URL(url)
  const request = (target.protocol === 'https:' ? https : http).request(target, { method: 'PUT', headers, signal })
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once('response', resolve)
    request.once('error', reject)
  })
  if (typeof file === 'string') {
    // never more than the length announced: a file that grows (or a procfs file, whose size
    // reads 0) cannot make the worker read without end (security audit H10)
    const length = Number(headers['content-length'])
    if (length === 0) request.end()
    else await pipeline(createReadStream(file, Number.isFinite(length) ? { start: 0, end: length - 1 } : {}), request)
  } else request.end(file)
  const res = await response
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  if (res.statusCode === undefined || res.statusCode >= 300) {
    throw new HttpStatusError(res.statusCode ?? 0, url, Buffer.concat(chunks).toString('utf8'))
  }
}

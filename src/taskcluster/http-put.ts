// PUT a body to a URL (s3-style artifact upload): a file is streamed, never buffered.

import { open } from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'

/**
 * Bytes read from disk at a time for an upload. fs streams read 64 KiB by default, which keeps a
 * PUT to a third of what the socket takes on loopback (1 GiB: 576 MB/s, 1 MiB reads: 1446 MB/s,
 * curl 1669 MB/s; issue #18).
 */
const UPLOAD_READ_BYTES = 1024 * 1024
/** What is kept of a PUT's answer (an error message from the store): nothing reads more. */
const ANSWER_LIMIT_BYTES = 64 * 1024

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
  // awaited below unless sending the body fails first, which then is the error thrown
  response.catch(() => {})
  if (typeof file === 'string') {
    // never more than the length announced: a file that grows (or a procfs file, whose size
    // reads 0) cannot make the worker read without end (security audit H10)
    const length = Number(headers['content-length'])
    // an empty body opens nothing (a FIFO or a procfs file of size 0 could hold open(2))
    if (length === 0) request.end()
    else await sendFile(file, Number.isFinite(length) ? length : Infinity, request, response)
  } else request.end(file)
  const res = await response
  const chunks: Buffer[] = []
  let kept = 0
  for await (const chunk of res) {
    if (kept < ANSWER_LIMIT_BYTES) chunks.push((chunk as Buffer).subarray(0, ANSWER_LIMIT_BYTES - kept))
    kept += (chunk as Buffer).length
  }
  if (res.statusCode === undefined || res.statusCode >= 300) {
    throw new HttpStatusError(res.statusCode ?? 0, url, Buffer.concat(chunks).toString('utf8'))
  }
}

/**
 * Writes up to `length` bytes of the file into the request, then ends it. Two buffers, reused:
 * one is read into while the other is written, and a buffer is read into again only once its
 * write has been flushed. Reads into fresh buffers (an fs stream's way) made the garbage
 * collector a fifth of a 1 GiB upload's CPU time in the worker (issue #18).
 */
async function sendFile(file: string, length: number, request: http.ClientRequest, response: Promise<unknown>): Promise<void> {
  // a request that fails (refused, reset, aborted) rejects `response`: every wait below gives up then
  const failed = response.then(() => new Promise<never>(() => {}))
  // handled here (a failure ends the loop through the races), so none is an unhandled rejection
  failed.catch(() => {})
  const handle = await open(file, 'r').catch((err: unknown) => {
    request.destroy()
    throw err
  })
  try {
    const buffers = [Buffer.allocUnsafe(UPLOAD_READ_BYTES), Buffer.allocUnsafe(UPLOAD_READ_BYTES)]
    let flushed: Promise<void> = Promise.resolve()
    let sent = 0
    for (let i = 0; sent < length; i++) {
      const buffer = buffers[i % 2]!
      const { bytesRead } = await Promise.race([handle.read(buffer, 0, Math.min(buffer.length, length - sent), sent), failed])
      if (bytesRead === 0) {
        // shorter than announced (cut while it was uploading): a body short of its Content-Length would hang
        if (Number.isFinite(length)) throw new Error(`${file} ended after ${sent} of the ${length} bytes announced for its upload`)
        break
      }
      // the other buffer's write is out of the way before this one goes (and before it is read into again)
      await Promise.race([flushed, failed])
      flushed = new Promise<void>((resolve, reject) => request.write(buffer.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve())))
      flushed.catch(() => {})
      sent += bytesRead
    }
    await Promise.race([flushed, failed])
  } catch (err) {
    // nothing more will be written: the request goes, and with it the connection
    request.destroy()
    throw err
  } finally {
    await handle.close()
  }
  request.end()
}

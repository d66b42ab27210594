// Publishing artifacts to the Queue, as generic-worker does: `s3` artifacts (createArtifact,
// then PUT to putUrl) by default, `object` artifacts (Object service upload, then
// finishArtifact) when createObjectArtifacts is set. Bodies stream from disk; gzip-encoded
// artifacts are compressed to a temporary file first so Content-Length is known.

import { closeSync, constants, createReadStream, createWriteStream, fstatSync, openSync, readSync } from 'node:fs'
import { mkdtemp, open, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { createGzip, gzip, gzipSync } from 'node:zlib'
import type { ArtifactPublisher, ArtifactSpec } from '../contract/artifacts.js'
import { InternalError, MalformedPayload, ResourceUnavailable } from '../contract/errors.js'
import { putFile } from './http-put.js'
import type { TaskQueue } from './queue.js'
import { statusOf, withRetry } from './retry.js'

const gzipAsync = promisify(gzip)
/** Files up to this size are gzip-compressed in memory rather than through a temporary file. */
const IN_MEMORY_GZIP_BYTES = 1024 * 1024
/**
 * Files up to this size are read and compressed on the event loop, in one go: a 1 KiB file costs
 * about 40 µs so, and ten times that through the thread pool (zlib's asynchronous handle and
 * three file-system round trips), which made a directory of 10 000 small files CPU-bound
 * (issue #18). The largest blocks the loop for a millisecond or two.
 */
const ON_LOOP_BYTES = 32 * 1024

export interface QueuePublisherOptions {
  createObjectArtifacts: boolean
  /** Told about every uploaded body: bytes sent and seconds taken (metrics). */
  onUploaded?: (bytes: number, seconds: number) => void
}

export class QueueArtifactPublisher implements ArtifactPublisher {
  constructor(
    private readonly queue: TaskQueue,
    private readonly options: QueuePublisherOptions,
  ) {}

  async publish(spec: ArtifactSpec, signal?: AbortSignal): Promise<void> {
    try {
      await this.publishUnmapped(spec, signal)
    } catch (err) {
      // generic-worker (workers/generic-worker/artifacts.go:127-155): a 409 means the payload
      // asked for something the Queue refuses (same name, different content): malformed-payload.
      // Any other 4xx (a non-ASCII name: the Queue's `name` pattern, services/queue/src/api.js:142)
      // it treats as a worker bug and panics ("WORKER EXCEPTION due to response code …"). Where
      // that panic is recovered (main.go:1185-1188) the task resolves exception/internal-error;
      // for payload artifacts it happens in an errgroup goroutine (artifact_feature.go:103-113;
      // golang.org/x/sync v0.22.0 no longer recovers panics there) and the whole worker dies,
      // leaving the claim to expire. megalodon never crashes on a task: internal-error, always.
      // Anything else after retries is the Queue being unavailable.
      const status = statusOf(err)
      const detail = err instanceof Error ? err.message : String(err)
      if (status === 409) {
        const taskUrl = `${this.queue.options.rootUrl.replace(/\/+$/, '')}/api/queue/v1/task/${this.queue.taskId}`
        // artifacts.go:136-147
        throw new MalformedPayload(
          `there was a conflict uploading artifact ${spec.name} - this suggests artifact ${spec.name} was already uploaded to this task with different content earlier on in this task.\nCheck the artifacts section of the task payload at ${taskUrl}\n${detail}`,
          [],
          { cause: err },
        )
      }
      if (status !== undefined && status < 500) throw new InternalError(`WORKER EXCEPTION due to response code ${status} from Queue when uploading artifact ${spec.name}: ${detail}`, { cause: err })
      throw new ResourceUnavailable(`could not upload artifact ${spec.name}: ${detail}`, { cause: err })
    }
  }

  private async publishUnmapped(spec: ArtifactSpec, signal?: AbortSignal): Promise<void> {
    switch (spec.kind) {
      case 'error':
        await this.queue.createArtifact(spec.name, { storageType: 'error', expires: spec.expires, reason: spec.reason, message: spec.message.slice(0, 4096) }, signal)
        return
      case 'link':
        await this.queue.createArtifact(
          spec.name,
          { storageType: 'link', expires: spec.expires, artifact: spec.artifact, ...(spec.contentType ? { contentType: spec.contentType } : {}) },
          signal,
        )
        return
      case 'reference':
        await this.queue.createArtifact(spec.name, { storageType: 'reference', expires: spec.expires, url: spec.url, contentType: spec.contentType }, signal)
        return
      case 'file': {
        const started = performance.now()
        const bytes = this.options.createObjectArtifacts ? await this.uploadObject(spec, signal) : await this.uploadS3(spec, signal)
        this.options.onUploaded?.(bytes, (performance.now() - started) / 1000)
        return
      }
    }
  }

  /** Returns the bytes sent. */
  private async uploadS3(spec: Extract<ArtifactSpec, { kind: 'file' }>, signal?: AbortSignal): Promise<number> {
    // Small files are compressed in memory (a temporary file each costs more than the upload);
    // large ones go through a temporary file, so memory stays flat whatever the size.
    const source = spec.contentPath ?? spec.path
    // Every read stops at the size the file had here (security audit H10: a procfs file reads
    // size 0 and may never end; a growing file is cut where it was when its upload began).
    // createArtifact's contentLength is that size, before any encoding, as generic-worker
    // reports it (workers/generic-worker/artifacts/s3.go:31-33, artifacts.go:45-48); the PUT's
    // Content-Length is what is sent.
    const size = (await stat(source)).size
    if (spec.contentEncoding === 'gzip' && size <= IN_MEMORY_GZIP_BYTES) {
      const onLoop = size <= ON_LOOP_BYTES ? readRegularFileSync(source, size) : undefined
      const body = onLoop ? gzipSync(onLoop) : await gzipAsync(await readAtMost(source, size))
      await this.putS3(spec, body, size, body.length, signal)
      return body.length
    }
    const tmp = spec.contentEncoding === 'gzip' ? await mkdtemp(path.join(os.tmpdir(), 'megalodon-gz-')) : undefined
    try {
      let body = source
      if (tmp) {
        body = path.join(tmp, 'body.gz')
        await pipeline(createReadStream(source, { start: 0, end: size - 1 }), createGzip(), createWriteStream(body), { signal })
      }
      const sentLength = (await stat(body)).size
      await this.putS3(spec, body, size, sentLength, signal)
      return sentLength
    } finally {
      if (tmp) await rm(tmp, { recursive: true, force: true })
    }
  }

  private async putS3(spec: Extract<ArtifactSpec, { kind: 'file' }>, body: string | Buffer, originalLength: number, sentLength: number, signal?: AbortSignal): Promise<void> {
    const res = await this.queue.createArtifact(spec.name, { storageType: 's3', expires: spec.expires, contentType: spec.contentType, contentLength: originalLength }, signal)
    const headers: Record<string, string | number> = { 'content-type': spec.contentType, 'content-length': sentLength }
    if (spec.contentEncoding === 'gzip') headers['content-encoding'] = 'gzip'
    await withRetry(() => putFile(res.putUrl as string, body, headers, signal), { ...this.queue.options.retry, signal })
  }

  /** Returns the bytes sent. */
  private async uploadObject(spec: Extract<ArtifactSpec, { kind: 'file' }>, signal?: AbortSignal): Promise<number> {
    const source = spec.contentPath ?? spec.path
    const contentLength = (await stat(source)).size
    // generic-worker sends contentLength for object artifacts too (artifacts/object.go:26-33),
    // but the Queue as deployed (taskcluster 106.0.0) cannot finish such an artifact: finishArtifact
    // publishes an artifact-created message carrying contentLength, which that message's own
    // schema (services/queue/schemas/v1/artifact-created-message.yml, additionalProperties: false)
    // rejects, and it answers 500 on every retry. Left out until the Queue's message schema
    // allows it; then restore `contentLength` here.
    const res = await this.queue.createArtifact(spec.name, { storageType: 'object', expires: spec.expires, contentType: spec.contentType }, signal)
    // taskcluster-client only for object artifacts (an idle worker does without it)
    const { default: taskcluster, upload } = await import('taskcluster-client')
    const object = new taskcluster.Object({
      rootUrl: this.queue.options.rootUrl,
      credentials: res.credentials as { clientId: string; accessToken: string; certificate?: string },
      retries: 0,
    })
    await withRetry(
      () =>
        upload({
          projectId: res.projectId as string,
          name: res.name as string,
          uploadId: res.uploadId as string,
          expires: res.expires as string,
          contentType: spec.contentType,
          contentLength,
          object,
          // never more than announced (security audit H10)
          streamFactory: async () => (contentLength === 0 ? Readable.from([]) : createReadStream(source, { start: 0, end: contentLength - 1 })),
          retries: 0,
        }),
      { ...this.queue.options.retry, signal },
    )
    await this.queue.finishArtifact(spec.name, { uploadId: res.uploadId as string }, signal)
    return contentLength
  }
}

/**
 * readAtMost for a small file, on the event loop; undefined when it is not a regular file (then
 * it goes the asynchronous way). Opened non-blocking: a FIFO put in its place would otherwise
 * hold the whole worker in open(2) until something writes to it.
 */
export function readRegularFileSync(file: string, size: number): Buffer | undefined {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    if (!fstatSync(fd).isFile()) return undefined
    const buffer = Buffer.alloc(size)
    let filled = 0
    while (filled < size) {
      const n = readSync(fd, buffer, filled, size - filled, filled)
      if (n === 0) break
      filled += n
    }
    return buffer.subarray(0, filled)
  } finally {
    closeSync(fd)
  }
}

/** The first `size` bytes of a file (fewer if it is shorter), read through one descriptor. */
async function readAtMost(file: string, size: number): Promise<Buffer> {
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(size)
    let filled = 0
    while (filled < size) {
      const { bytesRead } = await handle.read(buffer, filled, size - filled, filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    return buffer.subarray(0, filled)
  } finally {
    await handle.close()
  }
}

// Images docker-worker payloads name: by name (pulled when missing), or a `docker save` tarball
// published as an artifact (`task-image`, or `indexed-image` through the Index), `.tar`, `.zst`
// or `.lz4`, downloaded to a file in the task directory, then decompressed in a stream into
// `docker load`, with docker-worker's lines for each step. Loaded images are
// remembered by their source, so the next task using the same artifact downloads nothing.

import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { decompressor } from '../../src/lib/archives/index.js'
import { scopeSatisfied } from '../../src/lib/scopes.js'
import { statusOf, withRetry } from '../../src/taskcluster/retry.js'
import type { TaskContext } from '../../src/contract/task-context.js'
import type { TaskLog } from '../../src/lib/task-log.js'
import { downloadWithProgress, DownloadRefused } from './artifact-download.js'
import { registryAuth, type RegistryAuth } from './registry-auth.js'
import { imageReferenceProblem } from './image-reference.js'
import { artifactImageName, retagImageTarball } from './image-tarball.js'
import type { DockerEngine, RegistryCredentials } from './engine.js'
import type { DockerPayload } from './payload.js'

export interface ResolvedImage {
  /** What to run: a name, or the id `docker load` reported. */
  reference: string
  /** sha256 of the image artifact's bytes as downloaded (chain of trust's imageArtifactHash). */
  artifactSha256?: string
}

export type ImageCache = Map<string, ResolvedImage>

/** Returns the image to run; throws (the caller fails the task as docker-worker did). */
export async function resolveImage(engine: DockerEngine, ctx: TaskContext, image: DockerPayload['image'], loaded: ImageCache): Promise<ResolvedImage> {
  if (typeof image === 'string' || image.type === 'docker-image') {
    const name = typeof image === 'string' ? image : (image.name ?? '')
    // checked before any engine call: dockerode puts the name into the request path (H6)
    const problem = imageReferenceProblem(name)
    if (problem) throw new Error(problem)
    const registries = (ctx.config.dockerRegistries ?? {}) as Record<string, RegistryCredentials>
    const details = typeof image === 'string' ? { name: image, type: 'docker-image' } : image
    // docker-worker's schedule: each pull up to dockerConfig.maxAttempts times, any error, waiting
    // 2^(n-1)×delayFactor ±randomizationFactor (src/docker/docker_image.js:102-145, config.yml:44-50);
    // the whole image step tried 4 times, 10–1000 ms apart (src/task.js:826-838)
    const schedule = pullSchedule(ctx.config.dockerConfig)
    await outerRetry(async () => {
      // authorized before the engine is asked whether it has the image (src/docker/image_manager.js:77-84)
      const auth = registryAuth(name, ctx.task.scopes, registries, ctx.config.dockerConfig?.defaultRegistry)
      if (auth.missingScope) throw new Error(`Not authorized to use ${JSON.stringify(details)}.  Ensure that the task scopes are correctly defined in the task definition`)
      await pullWithBackoff(schedule, () => ensureImage(engine, name, ctx.log, auth.credentials), ctx.signal)
    })
    return { reference: name }
  }
  // the whole image step tried 4 times, downloading again each time (src/task.js:826-838)
  let resolved: ResolvedImage | undefined
  await outerRetry(async () => void (resolved = await artifactImage(engine, ctx, image, loaded)))
  return resolved!
}

/** A `task-image` or `indexed-image`, as docker-worker's ensureImage handled one (src/docker/image_manager.js:63-90). */
async function artifactImage(engine: DockerEngine, ctx: TaskContext, image: Exclude<DockerPayload['image'], string>, loaded: ImageCache): Promise<ResolvedImage> {
  const artifact = image.path!
  // authorization first, before the index is asked; a path under public/ (with or without a
  // leading /) needs no scope (src/docker/artifact_image.js:85-91, image_manager.js:77-82,
  // pull_image_test.js:185-209)
  if (!/^\/?public\//.test(artifact) && !scopeSatisfied(ctx.task.scopes, `queue:get-artifact:${artifact}`)) {
    throw new Error(`Not authorized to use ${JSON.stringify(image)}.  Ensure that the task scopes are correctly defined in the task definition`)
  }
  let taskId = image.taskId!
  if (image.type === 'indexed-image') {
    const { default: taskcluster } = await import('taskcluster-client') // loaded on first use, not by an idle worker
    const index = new taskcluster.Index({ rootUrl: ctx.config.rootURL, credentials: ctx.credentials(), retries: 0 })
    try {
      taskId = (await withRetry(() => index.findTask(image.namespace!))).taskId
    } catch (err) {
      // src/docker/indexed_image.js:56-65
      throw new Error(`Could not find a task associated with "${image.namespace}" namespace. ${(err as Error).message}`)
    }
  }
  const key = `${taskId}/${artifact}`
  // docker-worker found a loaded image in the engine by its md5 name, so across restarts too; the
  // artifact's hash only while it remembered it (src/docker/artifact_image.js:203-232)
  const name = artifactImageName(taskId, artifact)
  const usingLine = async (reference: string) => ctx.log.info(`Image '${artifact}' from task '${taskId}' loaded.  Using image ID ${await engine.images.id(reference)}.`)
  if (await engine.images.exists(name)) {
    const known = loaded.get(key) ?? { reference: name }
    await usingLine(known.reference)
    return known
  }
  loaded.delete(key)
  const resolved = await loadFromArtifact(engine, ctx, taskId, artifact).catch((err: unknown) => {
    // src/docker/artifact_image.js:158-166
    throw new Error(`Error loading docker image. ${(err as Error).message}`)
  })
  loaded.set(key, resolved)
  await usingLine(resolved.reference)
  return resolved
}

/**
 * docker-worker downloaded the artifact to a file, then chose by its extension how to read it,
 * then loaded it (src/docker/artifact_image.js:104-148,169-171), so an unsupported name is
 * found after the download and `image.zst` (no `.tar`) loads.
 */
async function loadFromArtifact(engine: DockerEngine, ctx: TaskContext, taskId: string, artifact: string): Promise<ResolvedImage> {
  const dir = await mkdtemp(path.join(ctx.taskDir, 'image-'))
  try {
    const file = path.join(dir, path.posix.basename(artifact))
    const sha256 = await downloadImageArtifact(ctx, taskId, artifact, file)
    const ext = path.posix.extname(file)
    if (ext !== '.lz4' && ext !== '.zst' && ext !== '.tar') throw new Error('Unsupported image file format. Expected tarball with extension: .tar.zst, .tar.lz4 or .tar')
    if (ext !== '.tar') ctx.log.info('Decompressing downloaded image')
    ctx.log.info('Loading docker image from downloaded archive.')
    // the same decompressors as mount content (zstd in process, lz4 through Debian's lz4)
    const body = createReadStream(file)
    const tarStream: Readable = ext === '.zst' ? body.pipe(decompressor('zst')) : ext === '.lz4' ? body.pipe(decompressor('lz4')) : body
    // the image gets the worker's name for this artifact, never the tags the tarball names (H5)
    const name = artifactImageName(taskId, artifact)
    await engine.images.load(await retagImageTarball(tarStream, name))
    return { reference: name, artifactSha256: sha256 }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * src/util/artifact_download.js:25-112: up to dockerConfig.maxAttempts attempts (404 and 401 at
 * once), 2^(n-1) × delayFactor ± randomizationFactor apart, each failure an error line; the
 * bytes' sha256. `s3` and `reference` artifacts are fetched as docker-worker fetched them, with
 * its progress lines (artifact-download.ts); object-service ones through taskcluster-client.
 */
async function downloadImageArtifact(ctx: TaskContext, taskId: string, artifact: string, file: string): Promise<string> {
  const { default: taskcluster, downloadArtifact } = await import('taskcluster-client') // loaded on first use, not by an idle worker
  const queue = new taskcluster.Queue({ rootUrl: ctx.config.rootURL, credentials: ctx.credentials(), retries: 0 })
  const s = pullSchedule(ctx.config.dockerConfig)
  ctx.log.info(`Downloading artifact "${artifact}" from task ID: ${taskId}.`)
  for (let attempt = 1; ; attempt++) {
    let bytes = 0
    try {
      const found = await queue.latestArtifact(taskId, artifact)
      let sha256: string
      if ((found.storageType === 's3' || found.storageType === 'reference') && found.url) {
        const fetched = await downloadWithProgress(found.url, file, (line) => ctx.log.info(line), ctx.signal)
        sha256 = fetched.sha256
        bytes = fetched.received
      } else if (found.storageType === 'error') {
        throw new Error(found.message ?? 'error artifact')
      } else {
        const hash = createHash('sha256')
        let written: Promise<void> | undefined
        await downloadArtifact({
          taskId,
          name: artifact,
          queue,
          retries: 0,
          streamFactory: async () => {
            const out = createWriteStream(file)
            written = finished(out)
            const counted = new PassThrough()
            counted.on('data', (chunk: Buffer) => {
              bytes += chunk.length
              hash.update(chunk)
            })
            counted.pipe(out)
            return counted
          },
        })
        await written
        sha256 = hash.digest('hex')
      }
      ctx.log.info('Downloaded artifact successfully.')
      ctx.log.info(`Downloaded ${(bytes / 1024 / 1024).toFixed(3)} mb over the wire`)
      return sha256
    } catch (caught) {
      const status = caught instanceof DownloadRefused ? caught.statusCode : statusOf(caught)
      // docker-worker's error for an HTTP refusal was the response's status text ("Not Found")
      const err = status !== undefined && STATUS_CODES[status] ? new Error(STATUS_CODES[status]) : (caught as Error)
      if (attempt >= s.maxAttempts || status === 404 || status === 401 || ctx.signal.aborted) {
        throw new Error(`Could not download artifact "${artifact} from task "${taskId}" after ${attempt} attempt(s). Error: ${err.message}`)
      }
      const delay = 2 ** (attempt - 1) * s.delayFactor * (Math.random() * 2 * s.randomizationFactor + 1 - s.randomizationFactor)
      ctx.log.error(`Error downloading "${artifact}" from task ID "${taskId}". ${String(err)} Next Attempt in: ${delay.toFixed(2)} ms.`)
      await sleep(delay, ctx.signal)
    }
  }
}

/**
 * Pull the image unless the engine has it already. Progress goes to the task log as
 * docker-worker's dockerode-process 0.7.0 wrote it (utils.js PullStatusStream): raw lines ending
 * in \r\n; of the layer events only the first `Downloading` (`<id> - Started downloading`) and
 * `Download complete` (`<id> - Downloaded in <s> seconds`); events without an id verbatim.
 */
async function ensureImage(engine: DockerEngine, name: string, log: TaskLog, credentials: RegistryAuth['credentials']): Promise<void> {
  if (await engine.images.exists(name)) return
  const layerStarts = new Map<string, number>()
  await engine.images.pull(name, credentials, (event) => {
    if (event.error !== undefined) {
      log.write(`${event.error}\n`)
      return
    }
    if (event.id === undefined) {
      log.write(`${event.status}\r\n`)
      return
    }
    if (event.status === 'Downloading' && !layerStarts.has(event.id)) {
      layerStarts.set(event.id, Date.now())
      log.write(`${event.id} - Started downloading\r\n`)
    } else if (event.status === 'Download complete' && layerStarts.has(event.id)) {
      log.write(`${event.id} - Downloaded in ${Math.abs(Date.now() - layerStarts.get(event.id)!) / 1000} seconds\r\n`)
    }
  })
}

interface PullSchedule {
  maxAttempts: number
  delayFactor: number
  randomizationFactor: number
}

function pullSchedule(c: { maxAttempts?: number; delayFactor?: number; randomizationFactor?: number } | undefined): PullSchedule {
  return { maxAttempts: c?.maxAttempts ?? 5, delayFactor: c?.delayFactor ?? 15_000, randomizationFactor: c?.randomizationFactor ?? 0.25 }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true })
  })

/** docker_image.js pullImageStreamTo: the last error is re-wrapped (`new Error(err)`: "Error: <message>"). */
async function pullWithBackoff(s: PullSchedule, pull: () => Promise<void>, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pull()
    } catch (err) {
      if (attempt >= s.maxAttempts || signal.aborted) throw new Error(String(err))
      const delay = 2 ** (attempt - 1) * s.delayFactor * (Math.random() * 2 * s.randomizationFactor + 1 - s.randomizationFactor)
      await sleep(delay, signal)
    }
  }
}

/** promise-retry with retries 3, minTimeout 10, maxTimeout 1000, factor 1.2, randomize (src/task.js:826-838). */
async function outerRetry(step: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step()
    } catch (err) {
      if (attempt >= 3) throw err
      await new Promise((r) => setTimeout(r, Math.min(1000, 10 * 1.2 ** attempt * (1 + Math.random()))))
    }
  }
}

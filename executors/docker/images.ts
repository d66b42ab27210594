// Images docker-worker payloads name: by name (pulled when missing), or a `docker save` tarball
// published as an artifact (`task-image`, or `indexed-image` through the Index), `.tar`,
// `.tar.zst` or `.tar.lz4`, decompressed in a stream straight into `docker load`. Loaded images are
// remembered by their source, so the next task using the same artifact downloads nothing.

import { createHash } from 'node:crypto'
import { PassThrough, type Readable } from 'node:stream'
import { decompressor } from '../../src/lib/archives/index.js'
import { scopeSatisfied } from '../../src/lib/scopes.js'
import { withRetry } from '../../src/taskcluster/retry.js'
import type { TaskContext } from '../../src/contract/task-context.js'
import type { TaskLog } from '../../src/lib/task-log.js'
import { registryOf } from './container.js'
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
    // docker-worker's schedule: each pull up to dockerConfig.maxAttempts times, any error, waiting
    // 2^(n-1)×delayFactor ±randomizationFactor (src/docker/docker_image.js:102-145, config.yml:44-50);
    // the whole image step tried 4 times, 10–1000 ms apart (src/task.js:826-838)
    const schedule = pullSchedule(ctx.config.dockerConfig)
    await outerRetry(() => pullWithBackoff(schedule, () => ensureImage(engine, name, ctx.log, registries), ctx.signal))
    return { reference: name }
  }
  const credentials = ctx.credentials()
  let taskId = image.taskId!
  if (image.type === 'indexed-image') {
    const { default: taskcluster } = await import('taskcluster-client') // loaded on first use, not by an idle worker
    const index = new taskcluster.Index({ rootUrl: ctx.config.rootURL, credentials, retries: 0 })
    taskId = (await withRetry(() => index.findTask(image.namespace!))).taskId
  }
  const artifact = image.path!
  // docker-worker's words; a path under public/ (with or without a leading /) needs no scope
  // (src/docker/artifact_image.js:85-91, src/docker/image_manager.js:77-82, pull_image_test.js:185-209)
  if (!/^\/?public\//.test(artifact) && !scopeSatisfied(ctx.task.scopes, `queue:get-artifact:${artifact}`)) {
    throw new Error(`Not authorized to use ${JSON.stringify(image)}.  Ensure that the task scopes are correctly defined in the task definition`)
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
  if (!/\.tar(\.zst|\.lz4)?$/.test(artifact)) throw new Error(`image artifact ${artifact} is not a .tar, .tar.zst or .tar.lz4 file`)
  ctx.log.info(`Downloading artifact "${artifact}" from task ID: ${taskId}.`)
  const resolved = await withRetry(() => loadFromArtifact(engine, ctx, taskId, artifact), { retries: 2 })
  loaded.set(key, resolved)
  await usingLine(resolved.reference)
  return resolved
}

async function loadFromArtifact(engine: DockerEngine, ctx: TaskContext, taskId: string, artifact: string): Promise<ResolvedImage> {
  const { default: taskcluster, downloadArtifact } = await import('taskcluster-client') // loaded on first use, not by an idle worker
  const queue = new taskcluster.Queue({ rootUrl: ctx.config.rootURL, credentials: ctx.credentials(), retries: 0 })
  // One attempt streams the download into `docker load`; the caller retries the whole load.
  const body = new PassThrough()
  const hash = createHash('sha256')
  body.on('data', (chunk: Buffer) => hash.update(chunk))
  const download = downloadArtifact({ taskId, name: artifact, queue, retries: 0, streamFactory: async () => body })
  // the same decompressors as mount content (zstd in process, lz4 through Debian's lz4)
  const tarStream: Readable = artifact.endsWith('.zst') ? body.pipe(decompressor('zst')) : artifact.endsWith('.lz4') ? body.pipe(decompressor('lz4')) : body
  // the image gets the worker's name for this artifact, never the tags the tarball names (H5)
  const name = artifactImageName(taskId, artifact)
  await Promise.all([engine.images.load(retagImageTarball(tarStream, name)), download])
  return { reference: name, artifactSha256: hash.digest('hex') }
}

/**
 * Pull the image unless the engine has it already. Progress goes to the task log as
 * docker-worker's dockerode-process 0.7.0 wrote it (utils.js PullStatusStream): raw lines ending
 * in \r\n; of the layer events only the first `Downloading` (`<id> - Started downloading`) and
 * `Download complete` (`<id> - Downloaded in <s> seconds`); events without an id verbatim.
 */
async function ensureImage(engine: DockerEngine, name: string, log: TaskLog, registries: Record<string, RegistryCredentials>): Promise<void> {
  if (await engine.images.exists(name)) return
  const registry = registryOf(name)
  const credentials = registries[registry]
  const layerStarts = new Map<string, number>()
  await engine.images.pull(name, credentials ? { ...credentials, serveraddress: registry } : undefined, (event) => {
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

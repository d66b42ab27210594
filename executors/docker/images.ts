// Images docker-worker payloads name: by name (pulled when missing), or a `docker save` tarball
// published as an artifact (`task-image`, or `indexed-image` through the Index), `.tar`,
// `.tar.zst` or `.tar.lz4`, decompressed in a stream straight into `docker load`. Loaded images are
// remembered by their source, so the next task using the same artifact downloads nothing.

import { createHash } from 'node:crypto'
import { PassThrough, type Readable } from 'node:stream'
import taskcluster, { downloadArtifact } from 'taskcluster-client'
import { decompressor } from '../../src/lib/archives/index.js'
import { scopeSatisfied } from '../../src/lib/scopes.js'
import { withRetry } from '../../src/taskcluster/retry.js'
import type { TaskContext } from '../../src/contract/task-context.js'
import { docker, ensureImage, type RegistryCredentials } from './container.js'
import type { DockerPayload } from './payload.js'

export interface ResolvedImage {
  /** What to run: a name, or the id `docker load` reported. */
  reference: string
  /** sha256 of the image artifact's bytes as downloaded (chain of trust's imageArtifactHash). */
  artifactSha256?: string
}

export type ImageCache = Map<string, ResolvedImage>

/** Returns the image to run; throws (the caller fails the task as docker-worker did). */
export async function resolveImage(ctx: TaskContext, image: DockerPayload['image'], loaded: ImageCache): Promise<ResolvedImage> {
  if (typeof image === 'string' || image.type === 'docker-image') {
    const name = typeof image === 'string' ? image : image.name!
    const registries = (ctx.config.dockerRegistries ?? {}) as Record<string, RegistryCredentials>
    // docker-worker tried an image three times; a 4xx (not found, not authorized) is final
    await withRetry(() => ensureImage(name, ctx.log, registries), { retries: 2 })
    return { reference: name }
  }
  const credentials = ctx.credentials()
  let taskId = image.taskId!
  if (image.type === 'indexed-image') {
    const index = new taskcluster.Index({ rootUrl: ctx.config.rootURL, credentials, retries: 0 })
    taskId = (await withRetry(() => index.findTask(image.namespace!))).taskId
    ctx.log.info(`Image ${image.namespace} is indexed as task ${taskId}`)
  }
  const artifact = image.path!
  if (!artifact.startsWith('public/') && !scopeSatisfied(ctx.task.scopes, `queue:get-artifact:${artifact}`)) {
    throw new Error(`the task needs the scope queue:get-artifact:${artifact} to use a private image artifact`)
  }
  const key = `${taskId}/${artifact}`
  const known = loaded.get(key)
  if (known && (await docker().getImage(known.reference).inspect().then(() => true, () => false))) {
    ctx.log.info(`Using image ${known.reference} loaded earlier from ${key}`)
    return known
  }
  if (!/\.tar(\.zst|\.lz4)?$/.test(artifact)) throw new Error(`image artifact ${artifact} is not a .tar, .tar.zst or .tar.lz4 file`)
  ctx.log.info(`Downloading image artifact ${artifact} from task ${taskId}`)
  const resolved = await withRetry(() => loadFromArtifact(ctx, taskId, artifact), { retries: 2 })
  loaded.set(key, resolved)
  ctx.log.info(`Loaded image ${resolved.reference}`)
  return resolved
}

async function loadFromArtifact(ctx: TaskContext, taskId: string, artifact: string): Promise<ResolvedImage> {
  const queue = new taskcluster.Queue({ rootUrl: ctx.config.rootURL, credentials: ctx.credentials(), retries: 0 })
  // One attempt streams the download into `docker load`; the caller retries the whole load.
  const body = new PassThrough()
  const hash = createHash('sha256')
  body.on('data', (chunk: Buffer) => hash.update(chunk))
  const download = downloadArtifact({ taskId, name: artifact, queue, retries: 0, streamFactory: async () => body })
  // the same decompressors as mount content (zstd in process, lz4 through Debian's lz4)
  const tarStream: Readable = artifact.endsWith('.zst') ? body.pipe(decompressor('zst')) : artifact.endsWith('.lz4') ? body.pipe(decompressor('lz4')) : body
  const [response] = await Promise.all([docker().loadImage(tarStream), download])
  const text = await new Promise<string>((resolve, reject) => {
    let out = ''
    response.on('data', (c: Buffer) => (out += c.toString()))
    response.on('end', () => resolve(out))
    response.on('error', reject)
  })
  const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { stream?: string; error?: string })
  const failure = lines.find((l) => l.error)
  if (failure) throw new Error(`docker load: ${failure.error}`)
  const loadedLine = lines.map((l) => l.stream ?? '').reverse().find((s) => s.startsWith('Loaded image'))
  const m = /^Loaded image(?: ID)?: (\S+)/.exec(loadedLine ?? '')
  if (!m) throw new Error(`docker load did not say what it loaded: ${text.slice(0, 300)}`)
  return { reference: m[1]!, artifactSha256: hash.digest('hex') }
}

// A `docker save` tarball from a task artifact names the tags `docker load` gives it
// (manifest.json RepoTags, the legacy `repositories` file, OCI index.json annotations). Loaded
// as is, a task could retag any image in the engine (security-audit.md H5). docker-worker
// rewrote the tarball so that the image gets one name of the worker's choosing, `<md5 of
// taskId + artifact path>:latest`, and refused tarballs holding more than one image
// (docker-worker src/docker/artifact_image.js, `imageName` and `renameImageInTarball`). The same
// here, in the stream between the download and `docker load`.

import { createHash } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { PassThrough, type Readable } from 'node:stream'

/** The name docker-worker gave an artifact's image: md5(taskId + artifact path), tag latest. */
export function artifactImageName(taskId: string, artifact: string): string {
  return `${createHash('md5').update(`${taskId}${artifact}`).digest('hex')}:latest`
}

/** The metadata files are small; anything larger is refused rather than read into memory. */
const METADATA_LIMIT = 1024 * 1024

/** The tarball with every tag it names replaced by `name` (repository:tag). */
export async function retagImageTarball(input: Readable, name: string): Promise<Readable> {
  // tar-stream when the first image comes from an artifact, not at start (issue #18, idle RSS)
  const { default: tar } = await import('tar-stream')
  const [repository, tag] = name.split(':') as [string, string]
  const extract = tar.extract()
  const pack = tar.pack()
  const out = new PassThrough()
  extract.on('entry', (header, stream, next) => {
    const file = header.name.replace(/^\.\//, '')
    if (header.type === 'file' && ['manifest.json', 'repositories', 'index.json'].includes(file)) {
      void readBounded(stream as unknown as Readable)
        .then((bytes) => {
          const rewritten = Buffer.from(rewrite(file, bytes, repository, tag))
          pack.entry({ ...header, size: rewritten.length }, rewritten, next)
        })
        .catch(next)
      return
    }
    stream.pipe(pack.entry(header, next))
  })
  extract.on('finish', () => pack.finalize())
  pipeline(input, extract).catch((err: Error) => out.destroy(err))
  pack.on('error', (err) => out.destroy(err))
  pack.pipe(out)
  return out
}

async function readBounded(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of stream) {
    size += (c as Buffer).length
    if (size > METADATA_LIMIT) throw new Error(`image tarball metadata over ${METADATA_LIMIT} bytes`)
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks)
}

const ONE_IMAGE = 'Image tarballs must only contain one image' // docker-worker's words

function rewrite(file: string, bytes: Buffer, repository: string, tag: string): string {
  const json: unknown = JSON.parse(bytes.toString('utf8'))
  if (file === 'manifest.json') {
    const manifest = json as Array<Record<string, unknown>>
    if (!Array.isArray(manifest) || manifest.length !== 1) throw new Error(ONE_IMAGE)
    manifest[0]!.RepoTags = [`${repository}:${tag}`]
    return JSON.stringify(manifest)
  }
  if (file === 'repositories') {
    // legacy format: {"repo": {"tag": "<id>"}}
    const repos = json as Record<string, Record<string, string>>
    const keys = Object.keys(repos)
    if (keys.length !== 1) throw new Error(ONE_IMAGE)
    const ids = Object.values(repos[keys[0]!] ?? {})
    if (ids.length !== 1) throw new Error(ONE_IMAGE)
    return JSON.stringify({ [repository]: { [tag]: ids[0] } })
  }
  // OCI index.json (docker 25+ writes it; the containerd image store reads its annotations)
  const index = json as { manifests?: Array<{ annotations?: Record<string, string> }> }
  if ((index.manifests?.length ?? 0) > 1) throw new Error(ONE_IMAGE)
  for (const m of index.manifests ?? []) {
    if (!m.annotations) continue
    if ('io.containerd.image.name' in m.annotations) m.annotations['io.containerd.image.name'] = `${repository}:${tag}`
    if ('org.opencontainers.image.ref.name' in m.annotations) m.annotations['org.opencontainers.image.ref.name'] = tag
  }
  return JSON.stringify(index)
}

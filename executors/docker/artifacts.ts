// docker-worker's artifacts: read out of the stopped container through the archive API as a
// tar stream; each file entry becomes one artifact (directories: `<name>/<relative path>`).
// A missing path or a path of the wrong kind is an error artifact, and the task goes on.

import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Readable } from 'node:stream'
// docker-worker's mime major (2.6.0, its yarn.lock:1347): .js is application/javascript there
import type { ArtifactSpec } from '../../src/contract/artifacts.js'
import type { TaskLog } from '../../src/lib/task-log.js'
import type { DockerPayload } from './payload.js'

/** docker-worker uploaded these as they are; everything else gzip-encoded. */
const alreadyCompressed = ['.7z', '.bz2', '.deb', '.dmg', '.flv', '.gif', '.gz', '.jpeg', '.jpg', '.png', '.swf', '.tbz', '.tgz', '.webp', '.whl', '.woff', '.woff2', '.xz', '.zip', '.zst', 'lz4']

export function dockerContentEncoding(name: string): 'gzip' | 'identity' {
  return alreadyCompressed.some((ext) => name.endsWith(ext)) ? 'identity' : 'gzip'
}

export async function collectDockerArtifacts(options: {
  /** A tar stream of a path in the stopped container (rejects with the engine's message). */
  archive: (path: string) => Promise<Readable>
  artifacts: NonNullable<DockerPayload['artifacts']>
  taskDir: string
  taskExpires: string
  log: TaskLog
}): Promise<ArtifactSpec[]> {
  // imported when the first docker task ends, not at start (issue #18, idle RSS)
  const [{ default: tar }, { default: mime }] = await Promise.all([import('tar-stream'), import('mime2')])
  const specs: ArtifactSpec[] = []
  let n = 0
  for (const [name, a] of Object.entries(options.artifacts)) {
    const expires = a.expires ?? options.taskExpires
    let archive: Readable
    try {
      archive = await options.archive(a.path)
    } catch (err) {
      const message = `Artifact "${name}" not found at "${a.path}": ${(err as Error).message}`
      options.log.info(message)
      specs.push({ kind: 'error', name, reason: 'file-missing-on-worker', message, expires })
      continue
    }
    const extract = tar.extract()
    let first = true
    let mismatched = false
    extract.on('entry', (header, stream, next) => {
      const isFile = header.type === 'file'
      // the entry's path below the archived path joins the artifact's name with one `/`; a name
      // ending in `/` keeps it, since String#trimEnd('/') trims whitespace only
      // (src/features/artifacts.js:77-86)
      const below = header.name.split('/').slice(1)
      const entryName = below.length > 0 && below[0] !== '' ? `${name.trimEnd()}/${below.join('/')}` : name
      if (first) {
        first = false
        // compared as the tar says it (docker-worker src/features/artifacts.js:94-117 compares
        // header.type itself): a symlink, fifo or device is neither a file nor a directory
        // (security audit L2: they made no artifact and no error)
        const actual = header.type ?? 'file'
        if (actual !== a.type) {
          const message = `Error uploading "${entryName}". Expected artifact to be a "${a.type}" but was "${actual}"`
          options.log.error(message)
          specs.push({ kind: 'error', name, reason: 'invalid-resource-on-worker', message, expires })
          mismatched = true
          stream.resume()
          extract.destroy()
          archive.destroy()
          return
        }
      }
      if (!isFile) {
        stream.on('end', next)
        stream.resume()
        return
      }
      const file = path.join(options.taskDir, 'artifacts', String(n++))
      const write = createWriteStream(file)
      stream.pipe(write)
      write.once('finish', () => {
        // type and encoding from the file's name in the container (src/features/artifacts.js:136-146)
        specs.push({ kind: 'file', name: entryName, path: file, contentType: mime.getType(header.name) ?? 'application/octet-stream', contentEncoding: dockerContentEncoding(header.name), expires })
        next()
      })
      write.once('error', (err) => extract.destroy(err))
    })
    await mkdir(path.join(options.taskDir, 'artifacts'), { recursive: true })
    // a type mismatch stops the extraction (and the engine's stream) early: whatever that
    // premature end reports ("aborted" from the engine's response), the error artifact stands
    // and the other artifacts are still collected (file_artifact_test.js:245-276)
    await pipeline(archive, extract).catch((err: unknown) => {
      if (!mismatched && (err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err
    })
  }
  return specs
}

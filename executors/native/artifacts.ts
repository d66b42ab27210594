// The payload's `artifacts` turned into ArtifactSpecs, as generic-worker's FindArtifacts and
// resolve() make them (artifact_feature.go:157-384): files, directories walked without
// following links (sorted), and an error artifact for every path that cannot be read or is of
// the wrong kind — optional ones included (they are uploaded; only their failure is ignored).

import { constants } from 'node:fs'
import { lstat, open, readdir } from 'node:fs/promises'
import path from 'node:path'
import type { ArtifactErrorReason, ArtifactSpec } from '../../src/contract/artifacts.js'
import type { NativeArtifact } from './payload.js'
import { contentEncodingFor, contentTypeFor } from './mime.js'
import { currentPlatform } from './platform.js'

export interface CollectOptions {
  taskDir: string
  /** Default expiry: the task's. */
  taskExpires: string
  /** Names the worker itself publishes (logs), each with what publishes it ("Backing log"). */
  reservedNames: ReadonlyMap<string, string>
  warn: (message: string) => void
}

interface Base {
  name: string
  expires: string
  optional: boolean
}

function errorSpec(base: Base, payloadPath: string, reason: ArtifactErrorReason, message: string): ArtifactSpec {
  return { kind: 'error', name: base.name, expires: base.expires, ...(base.optional ? { optional: true } : {}), path: payloadPath, reason, message }
}

/** What open()+fstat() say of a path (links followed, as Go's os.Open); never blocks on a fifo. */
async function probe(full: string): Promise<'missing' | 'unstatable' | 'directory' | 'file' | 'other'> {
  const handle = await open(full, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined)
  if (!handle) return 'missing'
  try {
    const st = await handle.stat().catch(() => undefined)
    if (!st) return 'unstatable'
    return st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other'
  } finally {
    await handle.close()
  }
}

/**
 * generic-worker's resolve(): an error artifact, or (for a file) its spec, or (for a readable
 * directory) undefined. `p` is the path as given (the payload's, or the walked one), `full` it
 * made absolute (fileutil.AbsFrom).
 */
async function resolveOne(a: NativeArtifact, base: Base, type: 'file' | 'directory', p: string, full: string): Promise<ArtifactSpec | undefined> {
  const kind = await probe(full)
  // artifact_feature.go:271-279: os.Open failed
  if (kind === 'missing') return errorSpec(base, p, 'file-missing-on-worker', `Could not read ${type} '${full}'`)
  // :283-291
  if (kind === 'unstatable') return errorSpec(base, p, 'invalid-resource-on-worker', `Could not stat ${type} '${full}'`)
  // :292-299
  if (type === 'file' && kind === 'directory') return errorSpec(base, p, 'invalid-resource-on-worker', `File artifact '${full}' exists as a directory, not a file, on the worker`)
  // :300-307
  if (type === 'directory' && kind !== 'directory') return errorSpec(base, p, 'invalid-resource-on-worker', `Directory artifact '${full}' exists as a file, not a directory, on the worker`)
  if (type === 'directory') return undefined
  // A fifo, socket or device: generic-worker would block on a fifo or read a device without
  // end; megalodon reports it as unreadable instead (a deliberate difference).
  if (kind === 'other') return errorSpec(base, p, 'file-missing-on-worker', `Could not read file '${full}'`)
  return {
    kind: 'file',
    name: base.name,
    ...(base.optional ? { optional: true } : {}),
    path: full,
    contentType: a.contentType ?? contentTypeFor(p),
    contentEncoding: a.contentEncoding ?? contentEncodingFor(p),
    expires: base.expires,
  }
}

/**
 * Go's filepath.WalkDir below `root` (root lstat'ed, entries sorted by name, links not
 * followed), with artifact_feature.go:190-229's walkFn: a directory is resolved as a directory,
 * everything else (links included) as a file; an unreadable directory is one error artifact.
 */
async function walk(a: NativeArtifact, top: Base, root: string, dir: string, isDir: boolean, out: ArtifactSpec[]): Promise<void> {
  // artifact_feature.go:196-198: the cleaned filepath.Join(name, relative path)
  const base: Base = { ...top, name: path.posix.join(top.name, path.relative(root, dir).split(path.sep).join('/')) }
  if (!isDir) {
    const spec = await resolveOne(a, base, 'file', dir, dir)
    if (spec) out.push(spec)
    return
  }
  const err = await resolveOne(a, base, 'directory', dir, dir)
  if (err) {
    // WalkDir then fails to read it too and calls walkFn again with the same path (a second
    // error artifact of the same name, which the Queue would refuse with 409): one is enough.
    out.push(err)
    return
  }
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (e) {
    // artifact_feature.go:211-220 (issue 6488): removed or unreadable while walked
    out.push(errorSpec(base, dir, 'invalid-resource-on-worker', `Error processing file '${dir}' as artifact: ${(e as Error).message}`))
    return
  }
  entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
  for (const e of entries) await walk(a, top, root, path.join(dir, e.name), e.isDirectory(), out)
}

export async function collectArtifacts(artifacts: readonly NativeArtifact[], options: CollectOptions): Promise<ArtifactSpec[]> {
  const specs: ArtifactSpec[] = []
  for (const a of artifacts) {
    const full = currentPlatform().resolvePath(options.taskDir, a.path)
    // artifact_feature.go:172-179: the name defaults to the path as written, the expiry to the task's
    const base: Base = { name: a.name ?? currentPlatform().canonicalName(a.path), expires: a.expires ?? options.taskExpires, optional: a.optional === true }
    if (a.type === 'file') {
      specs.push((await resolveOne(a, base, 'file', a.path, full))!)
      continue
    }
    const err = await resolveOne(a, base, 'directory', a.path, full)
    if (err) {
      specs.push(err)
      continue
    }
    // the walk root is lstat'ed: a link to a directory is resolved as a file, which says it is a
    // directory (security audit L1: never walked)
    const root = await lstat(full).catch(() => undefined)
    await walk(a, base, full, full, root?.isDirectory() === true, specs)
  }
  return specs.filter((s) => {
    const owner = options.reservedNames.get(s.name)
    if (owner === undefined) return true
    // artifact_feature.go:109-110
    options.warn(`Not uploading artifact ${s.name} found in task.payload.artifacts section, since this will be uploaded later by ${owner}`)
    return false
  })
}

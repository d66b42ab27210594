// The payload's `artifacts` turned into ArtifactSpecs, as generic-worker names and types them:
// files and directories (walked recursively, sorted), error artifacts for a missing path or a
// path of the wrong kind, optional ones left out when missing.

import { lstat, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import type { ArtifactSpec } from '../../src/contract/artifacts.js'
import type { NativeArtifact } from './payload.js'
import { contentEncodingFor, contentTypeFor } from './mime.js'
import { currentPlatform } from './platform.js'

export interface CollectOptions {
  taskDir: string
  /** Default expiry: the task's. */
  taskExpires: string
  /** Names the worker itself publishes (logs); a payload artifact may not take them. */
  reservedNames: ReadonlySet<string>
  warn: (message: string) => void
}


/**
 * The files under `dir`, sorted, never through a link (Go's filepath.WalkDir, which
 * generic-worker walks with, artifact_feature.go:232, does not follow one): a link to a file is
 * a file; a link to a directory is an invalid-resource error and a dangling one a missing file,
 * as generic-worker's resolve() of each entry (artifact_feature.go:271-308) makes them.
 */
async function walkFiles(dir: string): Promise<Array<{ file: string; error?: 'file-missing-on-worker' | 'invalid-resource-on-worker' }>> {
  const out: Array<{ file: string; error?: 'file-missing-on-worker' | 'invalid-resource-on-worker' }> = []
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const e of entries) {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...(await walkFiles(full)))
    else if (e.isFile()) out.push({ file: full })
    else if (e.isSymbolicLink()) {
      const target = await stat(full).catch(() => undefined)
      if (!target) out.push({ file: full, error: 'file-missing-on-worker' })
      else if (target.isDirectory()) out.push({ file: full, error: 'invalid-resource-on-worker' })
      else if (target.isFile()) out.push({ file: full })
    }
  }
  return out
}

function fileSpec(a: NativeArtifact, name: string, file: string, expires: string): ArtifactSpec {
  return {
    kind: 'file',
    name,
    path: file,
    contentType: a.contentType ?? contentTypeFor(file),
    contentEncoding: a.contentEncoding ?? contentEncodingFor(file),
    expires,
  }
}

export async function collectArtifacts(artifacts: readonly NativeArtifact[], options: CollectOptions): Promise<ArtifactSpec[]> {
  const specs: ArtifactSpec[] = []
  for (const a of artifacts) {
    const abs = currentPlatform().resolvePath(options.taskDir, a.path)
    const name = a.name ?? a.path.replace(/\\/g, '/')
    const expires = a.expires ?? options.taskExpires
    const info = await stat(abs).catch(() => undefined)
    if (!info) {
      if (a.optional) continue
      specs.push({ kind: 'error', name, reason: 'file-missing-on-worker', message: `Could not read ${a.type} '${abs}'`, expires })
      continue
    }
    if (a.type === 'file') {
      if (!info.isFile()) {
        if (a.optional) continue
        specs.push({ kind: 'error', name, reason: 'invalid-resource-on-worker', message: `Cannot upload '${abs}' as a file artifact: it is not a regular file`, expires })
      } else specs.push(fileSpec(a, name, abs, expires))
      continue
    }
    if (!info.isDirectory()) {
      if (a.optional) continue
      specs.push({ kind: 'error', name, reason: 'invalid-resource-on-worker', message: `Cannot upload '${abs}' as a directory artifact: it is not a directory`, expires })
      continue
    }
    // the directory itself a link (security audit L1: walked as root, it published the names
    // of files in a root-only directory): WalkDir does not descend it, and generic-worker's
    // resolve() of the link as a file says it is a directory (artifact_feature.go:292-298)
    if ((await lstat(abs)).isSymbolicLink()) {
      specs.push({ kind: 'error', name, reason: 'invalid-resource-on-worker', message: `File artifact '${abs}' exists as a directory, not a file, on the worker`, expires })
      continue
    }
    for (const { file, error } of await walkFiles(abs)) {
      const rel = path.relative(abs, file).split(path.sep).join('/')
      if (error === 'file-missing-on-worker') specs.push({ kind: 'error', name: `${name}/${rel}`, reason: error, message: `Could not read file '${file}'`, expires })
      else if (error) specs.push({ kind: 'error', name: `${name}/${rel}`, reason: error, message: `File artifact '${file}' exists as a directory, not a file, on the worker`, expires })
      else specs.push(fileSpec(a, `${name}/${rel}`, file, expires))
    }
  }
  return specs.filter((s) => {
    if (!options.reservedNames.has(s.name)) return true
    options.warn(`Not uploading artifact ${s.name}: the name is reserved for the worker's own artifacts`)
    return false
  })
}


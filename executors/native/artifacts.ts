// The payload's `artifacts` turned into ArtifactSpecs, as generic-worker names and types them:
// files and directories (walked recursively, sorted), error artifacts for a missing path or a
// path of the wrong kind, optional ones left out when missing.

import { readdir, stat } from 'node:fs/promises'
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


async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const e of entries) {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...(await walkFiles(full)))
    else if (e.isFile() || (e.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isFile())) out.push(full)
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
    for (const file of await walkFiles(abs)) {
      const rel = path.relative(abs, file).split(path.sep).join('/')
      specs.push(fileSpec(a, `${name}/${rel}`, file, expires))
    }
  }
  return specs.filter((s) => {
    if (!options.reservedNames.has(s.name)) return true
    options.warn(`Not uploading artifact ${s.name}: the name is reserved for the worker's own artifacts`)
    return false
  })
}


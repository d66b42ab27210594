// Upstream reference data (../shared/upstream), read by tests, never copied into the project.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'
import { projectRoot } from '../../src/lib/paths.js'

export const upstreamDir = path.resolve(projectRoot, '..', 'shared', 'upstream')

export function readUpstreamYaml(rel: string): unknown {
  return YAML.parse(readFileSync(path.join(upstreamDir, rel), 'utf8'))
}

/** Every schema in references.json, keyed by its $id without the trailing '#'. */
export function upstreamSchemas(): Array<Record<string, unknown>> {
  const refs = JSON.parse(readFileSync(path.join(upstreamDir, 'references.json'), 'utf8')) as Array<{ filename: string; content: Record<string, unknown> }>
  return refs.filter((r) => r.filename.startsWith('schemas/')).map((r) => r.content)
}

/** One file of the upstream source tarball (taskcluster-workers-src.tar.gz), e.g. `taskcluster-head/workers/generic-worker/testdata/ed25519_private_key`. */
export function readUpstreamSource(rel: string): Buffer {
  return execFileSync('tar', ['-xzOf', path.join(upstreamDir, 'taskcluster-workers-src.tar.gz'), rel], { maxBuffer: 64 * 1024 * 1024 })
}

// Multiuser engine: the bytes of every file artifact are copied by the task user, with no
// environment, into a directory only that user (and root) may enter, and the copy is what is
// uploaded. generic-worker does this (artifacts_multiuser.go:13-25 `copy-to-temp-file` through
// process.NewCommandNoOutputStreams with an empty env, called from artifact_feature.go:312), so
// a link to a file only root may read (/etc/shadow) or to the reader's own /proc/self/* (the
// worker's environment: security audit H1) gives nothing the task could not read itself, and a
// file swapped after a check (audit H2) is read with the task's rights anyway. Reads stop at a
// bound (audit H10: /proc/self/pagemap is endless) and procfs/sysfs files, which have no size,
// are refused.

import { execFile } from 'node:child_process'
import { chmod, chown, lstat, mkdir, mkdtemp, statfs } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { ArtifactSpec } from '../../src/contract/artifacts.js'
import { asTaskUser, type TaskUser } from './task-user.js'

const run = promisify(execFile)

/** Files copied per task-user process (their paths go in its argv). */
const COPY_BATCH = 500

/** statfs types whose files report no true size (endless or generated on read). */
const SIZELESS_FILE_SYSTEMS = new Set([
  0x9fa0, // procfs
  0x62656572, // sysfs
  0x64626720, // debugfs
  0x74726163, // tracefs
])

/** What an error artifact keeps of the file spec it replaces. */
function kept(spec: Extract<ArtifactSpec, { kind: 'file' }>) {
  return { name: spec.name, expires: spec.expires, path: spec.path, ...(spec.optional ? { optional: true } : {}) }
}

/** generic-worker's message when the task user's copy fails (the inner error is the subcommand's exit status). */
export function copyFailed(file: string): string {
  return `Could not copy file '${file}' to temporary location as task user: failed to copy file ${file} to temporary location as task user: exit status 76`
}

/** A fresh directory for one task's copies: root's, 0711, with a 0700 directory of the task user's inside. */
export async function makeCopyDirectory(user: TaskUser): Promise<{ root: string; files: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'megalodon-artifacts-'))
  await chmod(root, 0o711)
  const files = path.join(root, 'files')
  await mkdir(files, { mode: 0o700 })
  await chown(files, user.uid, user.gid)
  return { root, files }
}

/**
 * The specs, with every file artifact's path replaced by the task user's copy of it; a file the
 * task user cannot read, one on a size-less file system, or one larger than `maxBytes` becomes
 * an error artifact instead.
 */
export async function copyAsTaskUser(user: TaskUser, specs: ArtifactSpec[], dir: string, maxBytes?: number): Promise<ArtifactSpec[]> {
  const fs = await statfs(dir)
  const bound = maxBytes ?? Number(fs.bavail) * Number(fs.bsize)
  const out = [...specs]
  const toCopy: Array<{ index: number; file: string }> = []
  for (const [index, spec] of specs.entries()) {
    if (spec.kind !== 'file') continue
    // the kind of file system behind the path (no task-user process is left to change it)
    const type = await statfs(spec.path).then((s) => s.type, () => undefined)
    if (type !== undefined && SIZELESS_FILE_SYSTEMS.has(type)) {
      out[index] = { kind: 'error', ...kept(spec), reason: 'invalid-resource-on-worker', message: `Cannot upload '${spec.path}': it is on a file system whose files have no fixed size (procfs, sysfs)` }
    } else toCopy.push({ index, file: spec.path })
  }
  for (let i = 0; i < toCopy.length; i += COPY_BATCH) {
    const batch = toCopy.slice(i, i + COPY_BATCH)
    const batchDir = path.join(dir, String(i))
    await mkdir(batchDir, { mode: 0o700 })
    await chown(batchDir, user.uid, user.gid)
    // one character per file: 1 copied, 0 not; one byte past the bound tells "too large"
    const script = 'd=$1; n=$2; shift 2; i=0; for f in "$@"; do if head -c "$n" -- "$f" > "$d/$i" 2>/dev/null; then printf 1; else printf 0; fi; i=$((i+1)); done'
    const argv = asTaskUser(user, ['sh', '-c', script, 'sh', batchDir, String(bound + 1), ...batch.map((b) => b.file)])
    const answers = await run(argv[0]!, argv.slice(1), { env: {}, cwd: batchDir }).then(
      (r) => r.stdout,
      () => '',
    )
    for (const [j, { index, file }] of batch.entries()) {
      const spec = out[index] as Extract<ArtifactSpec, { kind: 'file' }>
      const copy = path.join(batchDir, String(j))
      const st = answers[j] === '1' ? await lstat(copy).catch(() => undefined) : undefined
      // artifact_feature.go:312-319 around artifacts_multiuser.go:20-22 (`copy-to-temp-file` exits 76, CANT_COPY_TO_TEMP_FILE)
      if (!st?.isFile()) out[index] = { kind: 'error', ...kept(spec), reason: 'file-not-readable-on-worker', message: copyFailed(file) }
      else if (st.size > bound) out[index] = { kind: 'error', ...kept(spec), reason: 'too-large-file-on-worker', message: `File '${file}' is larger than ${bound} bytes (the free space for its copy)` }
      else out[index] = { ...spec, contentPath: copy }
    }
  }
  // the copies stay out of every task user's reach until they are uploaded and removed
  await chmod(path.dirname(dir), 0o700)
  return out
}

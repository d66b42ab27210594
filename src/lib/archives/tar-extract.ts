// tar (and tar.<compression>) mount content through node-tar, strict: an entry it would not write
// safely is an error; owners and setuid/setgid bits are never kept; entries and bytes are counted.

import { createReadStream } from 'node:fs'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import * as tar from 'tar'
import { Budget, inside, KEPT_MODE_BITS, runPipeline, UnpackError } from './unpack-common.js'

/** Unpack the tar read from `source` through `decompress` into `root`. */
export async function extractTar(source: string, root: string, decompress: Duplex[], budget: Budget): Promise<void> {
  const problems: string[] = []
  const extractor = tar.x({
    cwd: root,
    strict: true, // an entry node-tar will not write (absolute, `..`, through a link) is an error, not a warning
    preservePaths: false,
    // node-tar keeps the archive's owners when run as root: never (generic-worker's unarchive
    // has no chown, and runs as the task user)
    preserveOwner: false,
    filter: (entryPath, entry) => {
      const e = entry as tar.ReadEntry
      try {
        budget.entry()
        budget.add(e.size ?? 0)
      } catch (err) {
        extractor.abort(err as Error)
        return false
      }
      if (typeof e.mode === 'number') e.mode &= KEPT_MODE_BITS
      const at = path.resolve(root, entryPath)
      if (!inside(root, at)) {
        problems.push(`entry ${entryPath} would be written outside the target directory`)
        return false
      }
      if (e.type === 'SymbolicLink' && !inside(root, path.resolve(path.dirname(at), e.linkpath ?? ''))) {
        problems.push(`symbolic link ${entryPath} -> ${e.linkpath} points outside the target directory`)
        return false
      }
      if (e.type === 'Link' && !inside(root, path.resolve(root, e.linkpath ?? ''))) {
        problems.push(`hard link ${entryPath} -> ${e.linkpath} points outside the target directory`)
        return false
      }
      return true
    },
  })
  try {
    await runPipeline([createReadStream(source), ...decompress, extractor as unknown as Duplex])
  } catch (err) {
    if (err instanceof UnpackError) throw err
    const msg = (err as Error).message
    throw new UnpackError(/TAR_ENTRY|path|Absolute|\.\./i.test(msg) ? `unsafe archive entry: ${msg}` : msg)
  }
  if (problems.length > 0) throw new UnpackError(`unsafe archive: ${problems.join('; ')}`)
}


// A small tmpfs for tests that need a disk that fills up (ENOSPC). Mounting needs root: the
// suite is skipped otherwise. The mount is detached lazily (`umount -l`) in case a worker
// process still holds a file there when the suite ends.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Registers before/after hooks on the current suite; the returned getter is the mount point. */
export function useTmpfs(sizeMib: number, prefix: string): () => string {
  let mountPoint = ''
  before(function () {
    if (process.getuid?.() !== 0) this.skip()
    mountPoint = mkdtempSync(path.join(os.tmpdir(), prefix))
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMib}m`, 'tmpfs', mountPoint])
  })
  after(() => {
    if (!mountPoint) return
    execFileSync('umount', ['-l', mountPoint])
    rmdirSync(mountPoint)
  })
  return () => mountPoint
}

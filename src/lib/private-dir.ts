// The worker's own stores (downloadsDir, cachesDir): made, or made again, 0700, so that no task
// user on a multiuser worker may look into another task's downloads or caches (security audit
// M2, H3, H4). generic-worker creates both with 0700 (workers/generic-worker/mounts_feature.go
// CacheMap.LoadFromFile and FileCacheMap.LoadFromFile: `perms := os.FileMode(0700)`, lines
// 193-195 and 314-316) and writes downloaded files 0600 (mounts_feature.go:1357, :1441).

import { chmod, mkdir, stat } from 'node:fs/promises'

/** Mode of the worker's store directories and of every file it keeps in them. */
export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** `dir` exists and only its owner may enter it (an existing one is tightened). */
export async function privateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  const mode = (await stat(dir)).mode & 0o7777
  if (mode !== PRIVATE_DIR_MODE) await chmod(dir, PRIVATE_DIR_MODE)
}

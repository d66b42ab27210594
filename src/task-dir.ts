// Per-run task directories under tasksDir, named as generic-worker names them.

import { mkdir, readdir, rm } from 'node:fs/promises'
import path from 'node:path'

const PREFIX = 'task_'

/** `task_<taskId prefix>_<runId>`, at most 20 characters (generic-worker keeps it a valid Windows user name). */
export function taskDirName(taskId: string, runId: number): string {
  const suffix = `_${runId}`
  const room = 20 - PREFIX.length - suffix.length
  return `${PREFIX}${taskId.replace(/[^A-Za-z0-9]/g, '').slice(0, room)}${suffix}`
}

export async function createTaskDir(tasksDir: string, taskId: string, runId: number): Promise<string> {
  const dir = path.join(tasksDir, taskDirName(taskId, runId))
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true, mode: 0o700 })
  return dir
}

/** Remove task directories left behind (a crash, or cleanUpTaskDirs after each task), except `keep`. */
export async function purgeTaskDirs(tasksDir: string, keep: ReadonlySet<string> = new Set()): Promise<string[]> {
  let entries: string[]
  try {
    entries = await readdir(tasksDir)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of entries) {
    const full = path.join(tasksDir, name)
    if (!name.startsWith(PREFIX) || keep.has(full)) continue
    await rm(full, { recursive: true, force: true })
    removed.push(full)
  }
  return removed
}

// Per-run task directories under tasksDir, named as generic-worker names them.

import { appendFileSync, readFileSync } from 'node:fs'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'

const PREFIX = 'task_'

/**
 * `task_<taskId prefix>_<runId>`, at most 20 characters (generic-worker keeps it a valid Windows
 * user name), the taskId's characters (`-` and `_` too) kept as they are (main.go:648-658).
 */
export function taskDirName(taskId: string, runId: number): string {
  const suffix = `_${runId}`
  const room = 20 - PREFIX.length - suffix.length
  return `${PREFIX}${taskId.slice(0, room)}${suffix}`
}

export async function createTaskDir(tasksDir: string, taskId: string, runId: number): Promise<string> {
  const dir = path.join(tasksDir, taskDirName(taskId, runId))
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true, mode: 0o700 })
  return dir
}

/** Where a run records the process groups it started, so a later worker can kill leftovers. */
function processGroupsFile(taskDir: string): string {
  return path.join(taskDir, 'generic-worker', 'process-groups')
}

/** Record a process group started for a task (synchronously: it must be on disk before a crash). */
export function recordProcessGroup(taskDir: string, pgid: number, taskId: string): void {
  try {
    appendFileSync(processGroupsFile(taskDir), `${pgid} ${taskId}\n`)
  } catch {
    // the task directory is gone: nothing left to clean up later either
  }
}

/**
 * Whether process group `pgid` is still the task's. Linux does not reuse a pid while it is some
 * group's id, so a group without a living leader is still ours; a living leader must carry
 * the task's TASK_ID (the pid may have been reused since a crash long ago).
 */
function stillTheTasks(pgid: number, taskId: string): boolean {
  let environ: string
  try {
    environ = readFileSync(`/proc/${pgid}/environ`, 'latin1')
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
  }
  return environ.split('\0').includes(`TASK_ID=${taskId}`)
}

/** SIGKILL every process group a task directory recorded (a worker that died left them running). */
async function killRecordedProcessGroups(taskDir: string): Promise<number> {
  const text = await readFile(processGroupsFile(taskDir), 'utf8').catch(() => '')
  let killed = 0
  for (const line of text.split('\n')) {
    const [pgidText, taskId] = line.split(' ')
    const pgid = Number(pgidText)
    if (!Number.isInteger(pgid) || pgid <= 1 || !taskId || !stillTheTasks(pgid, taskId)) continue
    try {
      process.kill(-pgid, 'SIGKILL')
      killed++
    } catch {
      // already gone
    }
  }
  return killed
}

/** Remove one task directory, after killing what its task left running. */
export async function removeTaskDir(taskDir: string): Promise<void> {
  await killRecordedProcessGroups(taskDir)
  await rm(taskDir, { recursive: true, force: true })
}

/**
 * Remove task directories left behind (a crash, or cleanUpTaskDirs after each task), except
 * `keep`, after killing the process groups their tasks started.
 */
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
    await removeTaskDir(full)
    removed.push(full)
  }
  return removed
}

// The files generic-worker keeps for operators' scripts:
// - `$TMPDIR/worker-status.json`, `{"currentTaskIds": [...]}` while tasks run, removed when none
//   does (task_manager.go:125-145, main.go:78, 1314-1316); `status` prints it (main.go:135-144);
// - `tasks-resolved-count.txt` in the working directory: the number of tasks resolved, read at
//   start and written when the worker stops (main.go:57, 360-383, 446-453).
// - `generic-worker-metadata.json` in the working directory, `{"lastTaskUrl"}` after each task
//   when enableMetadata (metadata_feature.go:17-80).
// JSON files are written as its fileutil.WriteToFileAsJSON writes them: two-space indent and a
// newline, through a temporary file renamed into place (fileutil.go:20-42).

import { randomBytes } from 'node:crypto'
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

export function workerStatusFile(): string {
  return path.join(os.tmpdir(), 'worker-status.json')
}

export function tasksResolvedFile(cwd = process.cwd()): string {
  return path.join(cwd, 'tasks-resolved-count.txt')
}

export async function writeJsonFile(file: string, value: unknown): Promise<void> {
  const temporary = `${file}-${randomBytes(8).toString('hex')}`
  await writeFile(temporary, JSON.stringify(value, null, 2) + '\n', { mode: 0o644 })
  await rename(temporary, file)
}

/** Writes the running task ids, or removes the file when none runs. */
export async function updateWorkerStatus(file: string, taskIds: readonly string[]): Promise<void> {
  if (taskIds.length === 0) await rm(file, { force: true })
  else await writeJsonFile(file, { currentTaskIds: taskIds })
}

/** What `status` prints: the file as it is, or an empty list when no task runs (no file). */
export async function readWorkerStatus(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).replace(/\n$/, '')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    return JSON.stringify({ currentTaskIds: [] }, null, 2)
  }
}

/** The count a previous run left; 0 when the file is missing or not a number (upstream ignores both). */
export async function readTasksResolved(file: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return /^\d+$/.test(text) ? Number(text) : 0
}

/** The count, as digits without a newline, mode 0600 (upstream secures the file for the worker). */
export async function writeTasksResolved(file: string, count: number): Promise<void> {
  await writeFile(file, String(count), { mode: 0o600 })
  await chmod(file, 0o600)
}

export function metadataFile(cwd = process.cwd()): string {
  return path.join(cwd, 'generic-worker-metadata.json')
}

export async function writeLastTask(file: string, rootUrl: string, taskId: string, runId: number): Promise<void> {
  await writeJsonFile(file, { lastTaskUrl: `${rootUrl}/tasks/${taskId}/runs/${runId}` })
}

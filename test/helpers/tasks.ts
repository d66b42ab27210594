// Small helpers for end-to-end tests: submit a payload, run the worker, read the outcome.
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import type { RawConfig } from '../../src/config/config.js'
import type { FakeQueue } from './fake-queue/index.js'
import { runWorker } from './worker.js'

export interface Outcome {
  taskId: string
  state: string
  reason?: string
  log: string
  exitCode: number
}

/** Create one task, run a worker for exactly one task, return the resolution and the backing log. */
export async function submitAndRun(fake: FakeQueue, payload: unknown, options: { task?: Record<string, unknown>; config?: RawConfig } = {}): Promise<Outcome> {
  const taskId = slugid()
  await fake.createTask(taskId, { payload, ...options.task })
  const { exitCode } = await runWorker(fake, { numberOfTasksToRun: 1, ...options.config })
  const run = fake.state.get(taskId).runs[0]!
  return { taskId, state: run.state, reason: run.reasonResolved, log: backingLog(fake, taskId), exitCode }
}

export function backingLog(fake: FakeQueue, taskId: string, runId = 0, name = 'public/logs/live_backing.log'): string {
  return fake.artifacts(taskId, runId).get(name)?.content?.toString('utf8') ?? ''
}

/** Poll until a condition holds (test plumbing, not a timing assertion). */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 25))
  }
}

/**
 * Whether a task's command has made `file` in its task directory (a command that printed its
 * line and then `touch`es a file has really started, whatever the machine's load).
 */
export function madeInTaskDir(tasksDir: string, file = 'started'): boolean {
  return (existsSync(tasksDir) ? readdirSync(tasksDir) : []).some((d) => existsSync(path.join(tasksDir, d, file)))
}

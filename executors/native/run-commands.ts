// A generic-worker task's commands, one after another, each with its result block and,
// unless turned off, the resource monitor watching it.

import { writeFile } from 'node:fs/promises'
import { TaskFailure } from '../../src/contract/errors.js'
import type { TaskContext } from '../../src/contract/task-context.js'
import { recordProcessGroup } from '../../src/lib/task-dir.js'
import { runCommand } from './command.js'
import { writeCommandResult } from './log.js'
import type { NativePayload } from './payload.js'
import { currentPlatform } from './platform.js'
import { ResourceMonitor } from './resource-monitor.js'
import { asTaskUser, type TaskUser } from './task-user.js'

/** Runs the commands in order, stopping at the first that fails or is aborted; returns the last exit code. */
export async function runCommands(ctx: TaskContext, commands: ReadonlyArray<unknown>, env: Record<string, string>, runAs?: TaskUser): Promise<number> {
  let exitCode = 0
  const platform = currentPlatform()
  for (const [i, command] of commands.entries()) {
    const prepared = platform.prepareCommand(command, i, ctx.taskDir)
    for (const [file, content] of Object.entries(prepared.files)) await writeFile(file, content)
    const argv = prepared.argv
    ctx.log.info(`Executing command ${i}: ${prepared.display}`)
    // the resource monitor may abort this command alone; the task then fails
    const local = new AbortController()
    let exceeded: string | undefined
    const monitor = monitorFor(ctx, (warning, failure) => {
      exceeded = failure
      ctx.log.warn(warning)
      local.abort()
    })
    const signal = AbortSignal.any([ctx.signal, local.signal])
    // taskstatus.go:213: logged when the abort happens, before the kill (not for a cancel,
    // whose log is never uploaded)
    const onAbort = () => {
      if ((ctx.signal.reason as { code?: string } | undefined)?.code !== 'TASK_CANCELLED') ctx.log.error('Aborting task...')
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    const result = await runCommand({
      argv,
      cwd: ctx.taskDir,
      env,
      log: ctx.log,
      signal,
      wrap: runAs ? (a) => asTaskUser(runAs, a) : undefined,
      graceSecs: ctx.config.abortGraceSecs,
      onStarted: (pgid) => recordProcessGroup(ctx.taskDir, pgid, ctx.taskId),
    }).finally(() => signal.removeEventListener('abort', onAbort))
    const memory = monitor?.stop()
    writeCommandResult(ctx.log, { ...result, ...(memory ? { memory } : {}) })
    exitCode = result.exitCode
    if (exceeded) throw new TaskFailure(exceeded)
    if (result.aborted) break
    if (exitCode !== 0) break
  }
  return exitCode
}

/** generic-worker's resource monitor for one command, unless the payload or the config turns it off. */
function monitorFor(ctx: TaskContext, onExceeded: (warning: string, failure: string) => void): ResourceMonitor | undefined {
  const features = (ctx.task.payload as NativePayload).features ?? {}
  if (features.resourceMonitor === false || !ctx.config.enableResourceMonitor) return undefined
  const c = ctx.config
  return new ResourceMonitor(
    {
      maxMemoryUsagePercent: c.maxMemoryUsagePercent,
      minAvailableMemoryBytes: c.minAvailableMemoryBytes,
      allowedHighMemoryDurationSecs: c.allowedHighMemoryDurationSecs,
      disableOOMProtection: c.disableOOMProtection,
    },
    onExceeded,
    undefined,
    undefined,
    (warnings) => warnings.forEach((w) => ctx.log.warn(w)),
  ).start()
}


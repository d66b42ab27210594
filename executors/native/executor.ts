// The native executor: generic-worker payloads run as processes in a fresh task directory, as
// the worker's own user (generic-worker's "insecure" engine) or as a fresh OS user per task
// (its multiuser engine, task-user.ts).

import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import os from 'node:os'
import { InternalError, MalformedPayload, TaskFailure } from '../../src/contract/errors.js'
import { recordProcessGroup } from '../../src/lib/task-dir.js'
import { openPty } from '../../src/servers/terminal.js'
import type { WorkerConfig } from '../../src/config/config.js'
import type { TaskContext, TaskExecutor } from '../../src/contract/executor.js'
import { collectArtifacts } from './artifacts.js'
import { runCommand } from './command.js'
import { multiuserEnv, taskEnv } from './env.js'
import { genericWorkerLogFormat, writeCommandResult, writeFooter, writeHeader, writeTaskFinished, writeTaskStarting } from './log.js'
import { missingTools, unsupportedFormats } from '../../src/lib/archives/index.js'
import { lendDevices, loopbackDevices } from './loopback.js'
import { directoryCachePool, DownloadCache, mountAll, unmountAll, type MountedCache } from './mounts.js'
import { readTaskFile, taskMover } from './task-rights.js'
import type { CachePool } from '../../src/lib/cache-pool.js'
import {
  asTaskUser,
  createTaskUser,
  giveTaskDirectory,
  killTaskUserProcesses,
  removeLeftoverTaskUsers,
  removeTaskUser,
  runAfterUserCreation,
  taskUserCanRead,
  writeTaskUserCredentials,
  type TaskUser,
} from './task-user.js'
import { validateNativePayload, type NativePayload } from './payload.js'
import { currentPlatform } from './platform.js'
import { ResourceMonitor } from './resource-monitor.js'

interface NativePrepared {
  payload: NativePayload
  /** Writable caches moved into the task directory. */
  caches: MountedCache[]
  exitCode?: number
  /** Multiuser engine: the task's own OS user. */
  user?: TaskUser
  /** Whom the commands run as: the task user, or nobody else (runTaskAsCurrentUser, insecure). */
  runAs?: TaskUser
  /** runTaskAsCurrentUser: the file TASK_USER_CREDENTIALS names. */
  credentialsFile?: string
  /** Gives lent loopback devices back to their owners. */
  returnDevices?: () => Promise<void>
}

/** One download cache and one set of directory caches per directory, for every task of this worker. */
const downloadCaches = new Map<string, DownloadCache>()
const directoryCaches = new Map<string, CachePool>()
function storesFor(ctx: { config: WorkerConfig }) {
  const downloads = downloadCaches.get(ctx.config.downloadsDir) ?? downloadCaches.set(ctx.config.downloadsDir, new DownloadCache(ctx.config.downloadsDir)).get(ctx.config.downloadsDir)!
  const caches = directoryCaches.get(ctx.config.cachesDir) ?? directoryCaches.set(ctx.config.cachesDir, directoryCachePool(ctx.config.cachesDir)).get(ctx.config.cachesDir)!
  return { downloads, caches }
}

/** Runs the commands in order, stopping at the first that fails or is aborted; returns the last exit code. */
async function runCommands(ctx: TaskContext, commands: ReadonlyArray<unknown>, env: Record<string, string>, runAs?: TaskUser): Promise<number> {
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
    const monitor = monitorFor(ctx, (message) => {
      exceeded = message
      ctx.log.error(message)
      local.abort()
    })
    const result = await runCommand({
      argv,
      cwd: ctx.taskDir,
      env,
      log: ctx.log,
      signal: AbortSignal.any([ctx.signal, local.signal]),
      wrap: runAs ? (a) => asTaskUser(runAs, a) : undefined,
      graceSecs: ctx.config.abortGraceSecs,
      onStarted: (pgid) => recordProcessGroup(ctx.taskDir, pgid, ctx.taskId),
    })
    const memory = monitor?.stop()
    writeCommandResult(ctx.log, { ...result, ...(memory ? { memory } : {}) })
    exitCode = result.exitCode
    if (exceeded) throw new TaskFailure(exceeded)
    if (result.aborted) {
      ctx.log.error('Aborting task...')
      break
    }
    if (exitCode !== 0) break
  }
  return exitCode
}

/** generic-worker's resource monitor for one command, unless the payload or the config turns it off. */
function monitorFor(ctx: TaskContext, onExceeded: (message: string) => void): ResourceMonitor | undefined {
  const features = (ctx.task.payload as NativePayload).features ?? {}
  if (features.resourceMonitor === false || !ctx.config.enableResourceMonitor) return undefined
  const c = ctx.config
  return new ResourceMonitor(
    { maxMemoryUsagePercent: c.maxMemoryUsagePercent, minAvailableMemoryBytes: c.minAvailableMemoryBytes, allowedHighMemoryDurationSecs: c.allowedHighMemoryDurationSecs },
    onExceeded,
  ).start()
}

function commandEnv(ctx: TaskContext, prepared: NativePrepared): Record<string, string> {
  const env = taskEnv({
    workerEnv: process.env,
    config: ctx.config,
    task: ctx.task,
    taskId: ctx.taskId,
    runId: ctx.runId,
    taskDir: ctx.taskDir,
    featureEnv: ctx.env,
    payloadEnv: prepared.payload.env,
  })
  if (!prepared.user) return env
  return multiuserEnv(env, {
    runAs: prepared.runAs,
    payloadEnv: prepared.payload.env,
    headless: ctx.config.headlessTasks,
    credentialsFile: prepared.credentialsFile,
  })
}

/** The groups of `groups` this host does not have. */
async function missingGroups(groups: readonly string[]): Promise<string[]> {
  const text = await readFile('/etc/group', 'utf8').catch(() => '')
  const known = new Set(text.split('\n').map((l) => l.split(':')[0]))
  return groups.filter((g) => !known.has(g))
}

export const nativeExecutor: TaskExecutor<NativePayload, NativePrepared> = {
  name: 'native',
  family: 'generic',
  logFormat: genericWorkerLogFormat,

  // docker-worker payloads name an `image`; everything else is ours to validate.
  accepts: (payload) => typeof payload !== 'object' || payload === null || !('image' in payload),

  validatePayload(task, config) {
    if (config.disableNativePayloads) {
      throw new MalformedPayload('this worker runs docker-worker payloads only', [
        'Native (generic-worker) payloads are disabled on this worker (config disableNativePayloads); give the task an `image` to run in a container, or send it to another worker pool.',
      ])
    }
    return validateNativePayload(task, config)
  },

  features(payload) {
    const f = payload.features ?? {}
    const wanted: Array<{ name: string; required: boolean }> = []
    // liveLog is on unless the payload turns it (or the backing log) off; it is best effort.
    if (f.liveLog !== false && f.backingLog !== false) wanted.push({ name: 'liveLog', required: false })
    if (f.taskclusterProxy === true) wanted.push({ name: 'taskclusterProxy', required: true })
    // Only the multiuser schemas allow chainOfTrust; the insecure one refuses it in validation.
    if (f.interactive === true) wanted.push({ name: 'interactive', required: true })
    if (f.chainOfTrust === true) wanted.push({ name: 'chainOfTrust', required: true })
    return wanted
  },

  async prepare(ctx, payload) {
    // An interactive session is a shell where the commands run, with their environment.
    const prepared: NativePrepared = { payload, caches: [] }
    if (ctx.config.engine === 'multiuser') {
      const groups = payload.osGroups ?? []
      const unknown = await missingGroups(groups)
      if (unknown.length > 0) throw new MalformedPayload('the task asks for OS groups this worker does not have', [`OS groups ${unknown.join(', ')} do not exist on this worker`])
      const user = await createTaskUser(ctx.taskDir, groups)
      prepared.user = user
      try {
        if (payload.features?.runTaskAsCurrentUser !== true) prepared.runAs = user
        else prepared.credentialsFile = await writeTaskUserCredentials(path.join(ctx.taskDir, 'generic-worker'), user)
        if (ctx.config.runAfterUserCreation) {
          const hook = ctx.config.runAfterUserCreation
          const outcome = await runAfterUserCreation(user, hook, commandEnv(ctx, { ...prepared, runAs: user }))
          if (outcome !== 0) throw new InternalError(`the worker's runAfterUserCreation (${hook}) failed for task user ${user.name}: ${typeof outcome === 'number' ? `exit code ${outcome}` : outcome}`)
          // what it left in the task directory belongs to the task user like the rest
          await giveTaskDirectory(user)
        }
      } catch (err) {
        await removeTaskUser(user.name).catch(() => undefined)
        throw err
      }
      ctx.log.info(`Running as task user ${prepared.runAs ? user.name : `${os.userInfo().username} (runTaskAsCurrentUser; task user ${user.name})`}`)
    }
    const runAs = prepared.runAs
    const devices = await loopbackDevices(payload.features ?? {}, ctx.config).catch(async (err: unknown) => {
      if (prepared.user) await removeTaskUser(prepared.user.name).catch(() => undefined)
      throw err
    })
    Object.assign(ctx.env, devices.env)
    if (runAs && devices.nodes.length > 0) prepared.returnDevices = await lendDevices(devices.nodes, runAs.uid, runAs.gid)
    ctx.openTerminal = async (command, size) => {
      const argv = command ?? currentPlatform().shell()
      return openPty(runAs ? asTaskUser(runAs, argv) : argv, { cwd: ctx.taskDir, env: commandEnv(ctx, prepared), size })
    }
    ctx.readTaskFile = (relative, maxBytes) => readTaskFile(path.join(ctx.taskDir, relative), maxBytes, runAs)
    if ((payload.mounts ?? []).length > 0) {
      const stores = storesFor(ctx)
      try {
        await mountAll(ctx, payload.mounts!, { ...stores, mover: taskMover(runAs) }, prepared.caches)
      } catch (err) {
        // the caches mounted before the failure go back where they came from
        await unmountAll(stores.caches, prepared.caches, false, ctx.log).catch(() => undefined)
        if (prepared.user) await removeTaskUser(prepared.user.name).catch(() => undefined)
        throw err
      }
    }
    // what the mounts put in the task directory belongs to the task user too
    if (prepared.user) await giveTaskDirectory(prepared.user)
    return prepared
  },

  async run(ctx, prepared) {
    const env = commandEnv(ctx, prepared)
    writeTaskStarting(ctx.log)
    const startedAt = new Date()
    try {
      prepared.exitCode = await runCommands(ctx, prepared.payload.command, env, prepared.runAs)
      return { exitCode: prepared.exitCode }
    } finally {
      // generic-worker closes the task timer before artifacts are uploaded.
      writeTaskFinished(ctx.log, startedAt, new Date())
    }
  },

  async result(ctx, prepared) {
    const { logs } = prepared.payload
    const runAs = prepared.runAs
    // Nothing of the task may still run while its files are checked and uploaded: a process
    // left in the background could swap a checked file for a link to one only root can read.
    if (runAs) await killTaskUserProcesses(runAs.name)
    return collectArtifacts(prepared.payload.artifacts ?? [], {
      taskDir: ctx.taskDir,
      // generic-worker reads artifacts as the task user: nothing the task could not read itself
      canRead: runAs ? (files) => taskUserCanRead(runAs, files) : undefined,
      taskExpires: ctx.task.expires,
      reservedNames: new Set([logs?.backing ?? 'public/logs/live_backing.log', logs?.live ?? 'public/logs/live.log']),
      warn: (m) => ctx.log.warn(m),
    })
  },

  async cleanup(ctx, prepared) {
    // Processes are gone (runCommand kills the group on abort); the task directory is
    // removed by the worker after the log upload. Caches go back, or are purged when the
    // commands were aborted or exited with a code listed in onExitStatus.purgeCaches.
    try {
      if (prepared.caches.length === 0) return
      const code = prepared.exitCode
      const purge = ctx.signal.aborted || (code !== undefined && (prepared.payload.onExitStatus?.purgeCaches ?? []).includes(code))
      await unmountAll(storesFor(ctx).caches, prepared.caches, purge, ctx.log)
    } finally {
      // the task user goes, with every process it still has, unless the worker keeps what tasks
      // leave (cleanUpTaskDirs false: generic-worker then keeps the users with their directories)
      if (prepared.user) {
        if (ctx.config.cleanUpTaskDirs) await removeTaskUser(prepared.user.name)
        else await killTaskUserProcesses(prepared.user.name)
      }
      // lent devices go back
      await prepared.returnDevices?.()
    }
  },

  async startup(config, warn) {
    if (config.engine === 'multiuser' && config.cleanUpTaskDirs) await removeLeftoverTaskUsers(config.tasksDir)
    // the commands some mount formats need: a worker without them says so once, at start
    if (config.enableMounts) {
      const missing = await missingTools()
      if (missing.length > 0) warn(`mounts in these formats will fail on this worker: ${missing.map((m) => `${m.formats} (needs ${m.command}, Debian package ${m.debian})`).join('; ')}`)
      warn(`mounts in these formats will fail on this worker: ${unsupportedFormats.map((f) => `${f}, tar.${f}`).join('; ')} (not supported by this version of megalodon)`)
    }
  },

  // generic-worker's order: cached downloads first, then writable caches
  async collectGarbage(config, enough, log) {
    const { downloads, caches } = storesFor({ config })
    await downloads.evict(enough, log)
    await caches.evict(enough, (i) => log(`evicted writable cache ${i.name}`))
  },

  logHeader: writeHeader,
  logFooter: writeFooter,
}

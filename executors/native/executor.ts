// The native executor: generic-worker payloads run as processes in a fresh task directory, as
// the worker's own user (generic-worker's "insecure" engine) or as a fresh OS user per task
// (its multiuser engine, task-user.ts).

import { rm } from 'node:fs/promises'
import path from 'node:path'
import { InternalError } from '../../src/contract/errors.js'
import type { TaskExecutor, UndoStack } from '../../src/contract/executor.js'
import type { TaskContext } from '../../src/contract/task-context.js'
import type { WorkerConfig } from '../../src/config/config.js'
import { missingTools } from '../../src/lib/archives/index.js'
import type { CachePool } from '../../src/lib/cache-pool.js'
import type { WorkerCredentials } from '../../src/contract/taskcluster.js'
import { purgeTrackers } from '../../src/taskcluster/purge-cache.js'
import { openPty } from '../../src/servers/terminal.js'
import { copyAsTaskUser, makeCopyDirectory } from './artifact-copies.js'
import { collectArtifacts } from './artifacts.js'
import { inheritedWorkerEnv, multiuserEnv, taskEnv } from './env.js'
import { genericFamily } from './family.js'
import { writeTaskFinished } from './log.js'
import { startLoopbackAudio, startLoopbackVideo } from './loopback.js'
import { addTaskUserToGroups } from './os-groups.js'
import { directoryCachePool, purgeLine, unmountAll, type MountedCache } from './mounts/caches.js'
import { DownloadCache } from './mounts/download-cache.js'
import { mountAll } from './mounts/mount.js'
import type { NativePayload } from './payload.js'
import { currentPlatform } from './platform.js'
import { execName, goLookPath } from './look-path.js'
import { runCommands } from './run-commands.js'
import { readTaskFile, taskMover } from './task-rights.js'
import {
  asTaskUser,
  createTaskUser,
  giveTaskDirectory,
  killTaskUserProcesses,
  removeLeftoverTaskUsers,
  removeTaskUser,
  runAfterUserCreation,
  writeTaskUserCredentials,
  type TaskUser,
} from './task-user.js'

export interface NativeRun {
  payload: NativePayload
  /** Writable caches moved into the task directory. */
  caches: MountedCache[]
  exitCode?: number
  /** The commands began (generic-worker's task.result is set). */
  commandsRan?: boolean
  /** Multiuser engine: the task's own OS user. */
  user?: TaskUser
  /** Whom the commands run as: the task user, or nobody else (runTaskAsCurrentUser, insecure). */
  runAs?: TaskUser
  /** runTaskAsCurrentUser: the file TASK_USER_CREDENTIALS names. */
  credentialsFile?: string
  /** Set once artifacts are being collected: no interactive shell may start after (audit H2). */
  collecting?: boolean
  /** Multiuser engine: the task user's copies of its file artifacts (removed by undo). */
  copies?: { root: string; files: string }
}

/** The download cache and the writable caches of one worker, by directory. */
export interface NativeStores {
  downloads: DownloadCache
  caches: CachePool
}

function commandEnv(ctx: TaskContext, run: NativeRun): Record<string, string> {
  const common = {
    config: ctx.config,
    task: ctx.task,
    taskId: ctx.taskId,
    runId: ctx.runId,
    taskDir: ctx.taskDir,
    featureEnv: ctx.env,
    payloadEnv: run.payload.env,
  }
  if (!run.user) return taskEnv({ workerEnv: process.env, ...common })
  return multiuserEnv({ ...common, user: run.user, currentUser: run.runAs === undefined, headless: ctx.config.headlessTasks, credentialsFile: run.credentialsFile })
}

/** Multiuser engine: a fresh OS user for the task (removed by `undo`), set up as the config says. */
async function prepareTaskUser(ctx: TaskContext, run: NativeRun, undo: UndoStack): Promise<void> {
  const { payload } = run
  const currentUser = payload.features?.runTaskAsCurrentUser === true
  let groups = payload.osGroups ?? []
  if (currentUser && groups.length > 0) {
    // generic-worker os_groups_multiuser.go:22-24: the commands do not run as the task user
    ctx.log.info(`Not adding task user to group(s) [${groups.join(' ')}] since we are running as current user.`)
    groups = []
  }
  const user = await createTaskUser(ctx.taskDir)
  // The task user goes, with every process it still has, unless the worker keeps what tasks
  // leave (cleanUpTaskDirs false: generic-worker then keeps the users with their directories).
  undo.defer(() => (ctx.config.cleanUpTaskDirs ? removeTaskUser(user.name, ctx.taskDir) : killTaskUserProcesses(user.name)))
  run.user = user
  // generic-worker passes the task user to its taskcluster-proxy as --allowed-user
  // (taskcluster_proxy_feature.go, set whenever the task has a Context.User)
  ctx.taskUid = user.uid
  if (!currentUser) run.runAs = user
  if (ctx.config.runAfterUserCreation) {
    const hook = ctx.config.runAfterUserCreation
    const outcome = await runAfterUserCreation(user, hook, ctx.taskDir, inheritedWorkerEnv(process.env))
    if (outcome !== 0) throw new InternalError(`the worker's runAfterUserCreation (${hook}) failed for task user ${user.name}: ${typeof outcome === 'number' ? `exit code ${outcome}` : outcome}`)
    // what it left in the task directory belongs to the task user like the rest
    await giveTaskDirectory(user)
  }
  // after runAfterUserCreation, as generic-worker's OS Groups feature starts once the task user exists
  if (groups.length > 0) undo.defer(await addTaskUserToGroups(user.name, groups, ctx.log))
}

/**
 * One native executor per worker: it owns that worker's download cache and writable caches
 * (by directory, so workers with different directories in one process share nothing).
 */
export interface NativeExecutorOptions {
  /** The worker's live credentials, for the purge-cache service (default: those the config names). */
  credentials?: WorkerCredentials
  /** `megalodon run`'s working directory: where generic-worker's directory-caches.json and file-caches.json are written. */
  stateDir?: string
}

export function createNativeExecutor(options: NativeExecutorOptions = {}): TaskExecutor<NativePayload, NativeRun> {
  const purges = purgeTrackers(options.credentials)
  const stores = new Map<string, NativeStores>()
  const storesFor = (config: WorkerConfig): NativeStores => {
    const key = `${config.downloadsDir}\0${config.cachesDir}`
    let found = stores.get(key)
    const state = (name: string) => (options.stateDir ? path.join(options.stateDir, name) : undefined)
    // mounts_feature.go:360-361,677-678
    if (!found) stores.set(key, (found = { downloads: new DownloadCache(config.downloadsDir, state('file-caches.json')), caches: directoryCachePool(config.cachesDir, state('directory-caches.json')) }))
    return found
  }

  return {
    name: 'native',
    profile: genericFamily,

    async prepare(ctx, payload, undo) {
      const run: NativeRun = { payload, caches: [] }
      if (ctx.config.engine === 'multiuser') await prepareTaskUser(ctx, run, undo)
      const runAs = run.runAs
      // An interactive session is a shell where the commands run, with their environment.
      ctx.openTerminal = async (command, size) => {
        // a shell opened while artifacts are read could swap a checked file (audit H2)
        if (run.collecting) throw new Error('the task is over: its artifacts are being collected')
        const [name, ...args] = command ?? currentPlatform().shell()
        // found with the worker's PATH, as generic-worker's exec.Command("bash") (multiuser_posix.go:66-67,89)
        const found = goLookPath(name ?? '', process.env.PATH)
        if ('error' in found) throw new Error(found.error)
        const env = commandEnv(ctx, run)
        const argv = [execName(name!, found.file, env.PATH), ...args]
        return openPty(runAs ? asTaskUser(runAs, argv) : argv, { cwd: ctx.taskDir, env, size })
      }
      undo.defer(() => (run.copies ? rm(run.copies.root, { recursive: true, force: true }) : undefined))
      ctx.readTaskFile = (relative, maxBytes) => readTaskFile(path.join(ctx.taskDir, relative), maxBytes, runAs)
      const stores = (payload.mounts ?? []).length > 0 ? storesFor(ctx.config) : undefined
      // Caches go back, or are purged when the commands were aborted or exited with a code
      // listed in onExitStatus.purgeCaches; those mounted before a failed mount go back too.
      undo.defer(() => {
        const code = run.exitCode
        const line = purgeLine({ ran: run.commandsRan === true, aborted: ctx.signal.aborted || code === -4, exitCode: code }, payload.onExitStatus?.purgeCaches ?? [])
        if (line) ctx.log.info(`[mounts] ${line}`)
        if (!stores) return undefined
        const purge = ctx.signal.aborted || (code !== undefined && (payload.onExitStatus?.purgeCaches ?? []).includes(code))
        return unmountAll(stores.caches, run.caches, purge, ctx.log)
      })
      if (stores) {
        const { downloads, caches } = stores
        await mountAll(ctx, payload.mounts!, { downloads, caches, mover: taskMover(runAs), purges: purges(ctx.config) }, run.caches)
      }
      // what the mounts put in the task directory belongs to the task user too
      if (run.user) await giveTaskDirectory(run.user)
      // runTaskAsCurrentUser: written last, so it stays the worker's (run_task_as_current_user_posix.go:31-41)
      if (run.user && !run.runAs) run.credentialsFile = await writeTaskUserCredentials(ctx.taskDir, run.user)
      // after the mounts, as generic-worker starts LoopbackAudio then LoopbackVideo (multiuser_linux.go:16-20)
      const osGroups = payload.osGroups ?? []
      if (payload.features?.loopbackAudio === true) await startLoopbackAudio(ctx.config.loopbackAudioDeviceNumber, osGroups, ctx.log)
      if (payload.features?.loopbackVideo === true) Object.assign(ctx.env, await startLoopbackVideo(ctx.config.loopbackVideoDeviceNumber, osGroups, ctx.log))
      return run
    },

    async run(ctx, run) {
      const env = commandEnv(ctx, run)
      const startedAt = process.hrtime.bigint()
      run.commandsRan = true
      try {
        run.exitCode = await runCommands(ctx, run.payload.command, env, run.runAs)
        return { exitCode: run.exitCode }
      } finally {
        // generic-worker closes the task timer before artifacts are uploaded.
        writeTaskFinished(ctx.log, startedAt, process.hrtime.bigint())
      }
    },

    async result(ctx, run) {
      const { logs } = run.payload
      const runAs = run.runAs
      // Nothing of the task may still run, or start, while its files are read: a process left in
      // the background or a new interactive shell could swap a checked file for a link to one
      // only root can read (audit H2).
      run.collecting = true
      if (runAs) await killTaskUserProcesses(runAs.name)
      const specs = await collectArtifacts(run.payload.artifacts ?? [], {
        taskDir: ctx.taskDir,
        taskExpires: ctx.task.expires,
        // main.go:1231 names the backing log's owner "Backing log"; the live log's is its feature
        reservedNames: new Map([
          [logs?.live ?? 'public/logs/live.log', 'Live Log'],
          [logs?.backing ?? 'public/logs/live_backing.log', 'Backing log'],
        ]),
        warn: (m) => ctx.log.warn(m),
      })
      if (!runAs) return specs
      // generic-worker uploads the task user's copy of each file: nothing the task could not read itself
      run.copies = await makeCopyDirectory(runAs)
      return copyAsTaskUser(runAs, specs, run.copies.files)
    },

    async startup({ config, log }) {
      if (config.engine === 'multiuser' && config.cleanUpTaskDirs) await removeLeftoverTaskUsers(config.tasksDir)
      // the commands some mount formats need: a worker without them says so once, at start
      if (config.enableMounts) {
        const missing = await missingTools()
        if (missing.length > 0) log('warn', `mounts in these formats will fail on this worker: ${missing.map((m) => `${m.formats} (needs ${m.command}, Debian package ${m.debian})`).join('; ')}`)
      }
    },

    // generic-worker's order: cached downloads first, then writable caches
    async collectGarbage({ config, log }, enough) {
      const { downloads, caches } = storesFor(config)
      await downloads.evict(enough, (m) => log('info', m))
      await caches.evict(enough, (i) => log('info', `evicted writable cache ${i.name}`))
    },
  }
}

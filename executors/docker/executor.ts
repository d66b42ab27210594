// The docker executor: docker-worker payloads in a real Docker engine (through dockerode):
// images by name (pulled when missing) or from artifacts (task-image, indexed-image), command,
// env, maxRunTime, onExitStatus, caches, privileged mode, devices, allowPtrace, file and
// directory artifacts, and what the features need of a container (a network the proxy
// listens on, `docker exec` terminals, the image's hash for the chain of trust).

import { purgeTrackers } from '../../src/taskcluster/purge-cache.js'
import { expandScopes } from '../../src/taskcluster/auth.js'
import { configCredentials } from '../../src/taskcluster/credentials.js'
import type { WorkerCredentials } from '../../src/contract/taskcluster.js'
import { ResourceUnavailable, TaskEnvironmentUnavailable, TaskFailure, type WorkerError } from '../../src/contract/errors.js'
import type { TaskContext } from '../../src/contract/task-context.js'
import type { TaskExecutor, UndoStack } from '../../src/contract/executor.js'
import { collectDockerArtifacts } from './artifacts.js'
import { CacheManager, type MountedCache } from './caches.js'
import { hostAccess, type HostAccess } from './capabilities.js'
import { hostCheckScopes } from './task-scopes.js'
import { createTaskNetwork, removeLeftovers, removeWorkerContainers, runContainer, WORKER_LABEL, type Leftovers, type TaskNetwork } from './container.js'
import { engineHasLabelled, lazyDockerEngine } from './lazy-engine.js'
import type { DockerEngine } from './engine.js'
import { ImageCollector } from './image-gc.js'
import { resolveImage, type ImageCache, type ResolvedImage } from './images.js'
import { dockerFamily } from './family.js'
import { DOCKER_WORKER_KEEP_ALIVE, heldTerminal, SessionHold, wrappedCommand, type KeepAlive } from './interactive-hold.js'
import type { DockerPayload } from './payload.js'

export interface DockerRun {
  payload: DockerPayload
  /** Where run() registers the container's removal once it exists. */
  undo: UndoStack
  image: string
  access: HostAccess
  caches: MountedCache[]
  /** The task's container, once created. */
  containerId?: string
  network?: TaskNetwork
  /** An interactive task's wrapper and hold (docker-worker's keep-alive: interactive-hold.ts). */
  interactive?: { hold: SessionHold; entrypoint: string[]; command: string[] }
  exitCode?: number
  /** The engine stopped answering during the run. */
  engineLost?: boolean
}

/**
 * The environment docker-worker gave containers: the features' (TASKCLUSTER_PROXY_URL), the
 * payload's over them, then what a task cannot override (src/task.js:354-368: `_.defaults({},
 * payload.env, linkInfo.env)`, "Allow task specific environment vars to overwrite those provided
 * by hooks").
 */
function containerEnv(ctx: TaskContext, payload: DockerPayload): Record<string, string> {
  const c = ctx.config
  // A host value docker-worker's runtime lacked reached the container as the text `undefined`
  // (src/task.js:40-48 concatenates name=value); here "lacked" is an empty config setting.
  const orUndefined = (value: string) => (value === '' ? 'undefined' : value)
  return {
    ...ctx.env,
    ...(payload.env ?? {}),
    TASK_ID: ctx.taskId,
    RUN_ID: String(ctx.runId),
    TASKCLUSTER_WORKER_TYPE: c.workerType,
    TASKCLUSTER_WORKER_POOL: `${c.provisionerId}/${c.workerType}`,
    // config.yml:66's workerNodeType default, as the log header says (log.ts)
    TASKCLUSTER_INSTANCE_TYPE: c.instanceType || 'standalone',
    TASKCLUSTER_WORKER_GROUP: c.workerGroup,
    TASKCLUSTER_PUBLIC_IP: orUndefined(c.publicIP),
    TASKCLUSTER_ROOT_URL: c.rootURL,
    TASKCLUSTER_WORKER_LOCATION: orUndefined(c.workerLocation),
  }
}

const DOCKER_CONFIG_FAILED = 'Docker configuration could not be created.  This may indicate an authentication error when validating scopes necessary for running the task.'

/** docker-worker's words for why a run was stopped. */
function abortMessage(reason: WorkerError, maxRunTime: number): string {
  switch (reason.code) {
    case 'MAX_RUN_TIME_EXCEEDED':
      return `Task timeout after ${maxRunTime} seconds. Force killing container.`
    case 'TASK_CANCELLED':
      // docker-worker learnt of a cancel only from a reclaim's 409 and wrote the client error's
      // stack (src/task.js:278-286): its first line, `Error: <the Queue's message>`; its own
      // "Task was canceled by another entity" text belonged to a path it never wired up
      return `Could not reclaim task. Error: ${reason.cause instanceof Error ? reason.cause.message : String(reason.cause ?? reason.message)}`
    default:
      return `Task has been aborted prematurely. Reason: ${reason.code === 'WORKER_SHUTDOWN' ? 'worker-shutdown' : 'internal-error'}`
  }
}

export interface DockerExecutorOptions {
  /** The engine tasks run in (default: the local engine through dockerode). */
  engine?: DockerEngine
  /** The worker's live credentials, for the purge-cache service (default: those the config names). */
  credentials?: WorkerCredentials
  /** How long an interactive task's container is kept for its shells (default: docker-worker's). */
  interactiveKeepAlive?: KeepAlive
  /** How long after its last use a task's image may be removed (default: docker-worker's two hours). */
  imageExpirationMs?: number
}

/** One docker executor per worker: it owns that worker's cache instances and loaded images. */
export function createDockerExecutor(options: DockerExecutorOptions = {}): TaskExecutor<DockerPayload, DockerRun> {
  const engine = options.engine ?? lazyDockerEngine()
  const purges = purgeTrackers(options.credentials)
  const cacheManagers = new Map<string, CacheManager>()
  const loadedImages: ImageCache = new Map()
  const leftovers: Leftovers = { containers: new Set(), networks: new Set() }
  const cachesFor = (dir: string) => cacheManagers.get(dir) ?? cacheManagers.set(dir, new CacheManager(dir)).get(dir)!
  const usedImages = new ImageCollector(options.imageExpirationMs)
  // docker tasks between the start of prepare and their undo: images are removed only when none
  // is (one that has just pulled its image has no container yet to protect it)
  let active = 0
  return {
    name: 'docker',
    profile: dockerFamily,

    // docker-worker asked the purge-cache service after every claimWork that returned tasks, once
    // it held any cache; a worker that has made none asks nothing (src/task_listener.js:126-131,
    // src/volume_cache.js:271-276). Unreachable, it is reported, never a task failure (:278-293).
    // docker-worker forgot its caches when it restarted; megalodon keeps the instances it finds on
    // disk, so those count as held: a purge made while the worker was down still applies.
    async claimed(host) {
      const caches = cachesFor(host.config.cachesDir)
      if (await caches.isEmpty()) return
      await caches.applyPurges(await purges(host.config).current((m) => host.log('warn', m)))
    },

    async prepare(ctx, payload, undo) {
      active++
      undo.defer(() => void active--)
      if (!(await engine.ping())) {
        ctx.log.error('The Docker engine does not answer; the task cannot start and is resolved as an exception.')
        throw new ResourceUnavailable('the Docker engine does not answer')
      }
      await removeLeftovers(engine, leftovers)
      let resolved: ResolvedImage
      try {
        resolved = await resolveImage(engine, ctx, payload.image, loadedImages)
      } catch (err) {
        // docker-worker resolved the task failed, not exception, when the image could not be had
        ctx.log.error('Pulling docker image has failed.')
        ctx.log.error(`Error: ${(err as Error).message}`)
        throw new TaskEnvironmentUnavailable(`Pulling docker image has failed: ${(err as Error).message}`)
      }
      // src/task.js:841: the image is marked once the task has it; its expiry starts again
      await engine.images.id(resolved.reference).then((id) => usedImages.mark(id), () => undefined)
      let access: HostAccess | { refused: string }
      try {
        access = await hostAccess(payload, ctx.task.scopes, ctx.config, () => hostCheckScopes(payload, ctx.task.scopes, (s) => expandScopes(ctx.config.rootURL, options.credentials?.current() ?? configCredentials(ctx.config), s)))
      } catch (err) {
        // docker-worker: an expandScopes error fails the task while its docker config is built (src/task.js:402-408,855-862)
        ctx.log.error(`${DOCKER_CONFIG_FAILED} \n Error: ${(err as Error).message}`)
        throw new TaskFailure(`auth.expandScopes failed: ${(err as Error).message}`)
      }
      if ('refused' in access) {
        // one message, the error after " \n " as util.format printed its stack (src/task.js:857-862;
        // privileged_containers_test.js:74 looks for `Error: Cannot run task using docker privileged mode`)
        ctx.log.error(`${DOCKER_CONFIG_FAILED} \n Error: ${access.refused}`)
        throw new TaskFailure(access.refused)
      }
      const prepared: DockerRun = { payload, undo, image: resolved.reference, access, caches: [] }
      const cacheManager = cachesFor(ctx.config.cachesDir)
      // docker-worker purged caches only for a non-zero exit code listed in purgeCaches
      const purge = () => {
        const code = prepared.exitCode
        return code !== undefined && code !== 0 && (payload.onExitStatus?.purgeCaches ?? []).includes(code)
      }
      await cacheManager
        .acquire(payload.cache ?? {}, (mounted) => {
          prepared.caches.push(mounted)
          undo.defer(() => cacheManager.release([mounted], purge()))
        })
        .catch((err: unknown) => {
          // caches were mounted while building the container's configuration (src/task.js:855-863)
          if (err instanceof TaskFailure) ctx.log.error(`${DOCKER_CONFIG_FAILED} \n Error: ${err.message}`)
          throw err
        })
      if (payload.features?.taskclusterProxy) {
        // The proxy listens on the worker side of the task's own network; the container knows
        // that address as `taskcluster`, so TASKCLUSTER_PROXY_URL is http://taskcluster.
        const network = await createTaskNetwork(engine, `${ctx.taskId}-${ctx.runId}`, `${ctx.config.workerGroup}/${ctx.config.workerId}`)
        // what the engine cannot remove now (it is restarting) is removed before a later task
        undo.defer(() => engine.networks.remove(network.name).catch(() => void leftovers.networks.add(network.name)))
        prepared.network = network
        ctx.reach = {
          listenHost: network.gateway,
          portFor: () => 80,
          urlFor: (_service, port) => (port === 80 ? 'http://taskcluster' : `http://taskcluster:${port}`),
        }
      }
      // docker-worker's interactive sessions were `docker exec`s in the task's container, which
      // its wrapper kept while they needed it
      if (payload.features?.interactive) {
        const hold = await SessionHold.start(ctx.taskDir, options.interactiveKeepAlive ?? DOCKER_WORKER_KEEP_ALIVE)
        undo.defer(() => hold.dispose())
        prepared.interactive = { hold, ...wrappedCommand(await engine.images.config(resolved.reference), payload.command ?? []) }
      }
      ctx.openTerminal = async (command, size) => {
        if (!prepared.containerId) throw new Error('the task container is not running')
        const ended = await prepared.interactive?.hold.session()
        try {
          return heldTerminal(await engine.containers.exec(prepared.containerId, command ?? ['sh'], size), ended)
        } catch (err) {
          ended?.()
          throw err
        }
      }
      const image = resolved.reference
      // What docker-worker's chain of trust certificate says about the image.
      ctx.provenance = async () => ({
        imageHash: await engine.images.id(image),
        ...(resolved.artifactSha256 ? { imageArtifactHash: `sha256:${resolved.artifactSha256}` } : {}),
      })
      return prepared
    },

    async run(ctx, prepared) {
      ctx.log.info('=== Task Starting ===')
      let result: { exitCode: number; aborted: boolean }
      try {
        result = await runContainer(engine, {
        image: prepared.image,
        ...(prepared.interactive ? { entrypoint: prepared.interactive.entrypoint, command: prepared.interactive.command } : { command: prepared.payload.command ?? [] }),
        env: containerEnv(ctx, prepared.payload),
        label: `${ctx.taskId}-${ctx.runId}`,
        worker: `${ctx.config.workerGroup}/${ctx.config.workerId}`,
        binds: [...prepared.caches.map((c) => `${c.dir}:${c.mountPoint}`), ...prepared.access.binds, ...(prepared.interactive ? [prepared.interactive.hold.bind] : [])],
        privileged: prepared.access.privileged,
        devices: prepared.access.devices,
        capAdd: prepared.access.capAdd,
        network: prepared.network,
        log: ctx.log,
        signal: ctx.signal,
        onCreated: (id) => {
          prepared.containerId = id
          // what the engine cannot remove now (it is restarting) is removed before a later task
          prepared.undo.defer(() => engine.containers.remove(id).catch(() => void leftovers.containers.add(id)))
        },
      })
      } catch (err) {
        // The engine itself went away (restarted, crashed): not the task's doing.
        if (!(await engine.ping())) {
          prepared.engineLost = true
          ctx.log.error(`The Docker engine stopped answering during the task (${(err as Error).message}); the task did not finish and is resolved as an exception.`)
          throw new ResourceUnavailable(`the Docker engine stopped answering during the task: ${(err as Error).message}`, { cause: err })
        }
        // docker-worker: the task failed (exit code -1), it is not an exception
        ctx.log.error('Failure to properly start execution environment.')
        ctx.log.error((err as Error).message)
        result = { exitCode: -1, aborted: false }
      }
      if (result.aborted) ctx.log.error(abortMessage(ctx.signal.reason as WorkerError, prepared.payload.maxRunTime))
      ctx.log.info('=== Task Finished ===')
      prepared.exitCode = result.exitCode
      return { exitCode: result.exitCode }
    },

    async result(ctx, prepared) {
      const id = prepared.containerId
      if (!id || prepared.engineLost || prepared.payload.features?.artifacts === false) return []
      return collectDockerArtifacts({ archive: (path) => engine.containers.archive(id, path), artifacts: prepared.payload.artifacts ?? {}, taskDir: ctx.taskDir, taskExpires: ctx.task.expires, log: ctx.log })
    },

    // docker-worker's sweep with the disk short: every image it used that no container uses, then caches (src/gc.js:186-219)
    async collectGarbage({ config, log }, enough) {
      if (active === 0) await usedImages.sweep(engine, true, (m) => log('info', m))
      if (await enough()) return
      await cachesFor(config.cachesDir).evict(enough, (m) => log('info', m))
    },

    // docker-worker's full sweep before claiming with no task running (src/task_listener.js:108-110)
    async idle({ log }) {
      if (active === 0) await usedImages.sweep(engine, false, (m) => log('info', m))
    },

    async startup({ config }) {
      const worker = `${config.workerGroup}/${config.workerId}`
      // Nothing of ours left (the usual start): no need to load the engine client yet.
      if (!options.engine && (await engineHasLabelled(WORKER_LABEL, worker)) === false) return
      await removeWorkerContainers(engine, worker)
    },
  }
}

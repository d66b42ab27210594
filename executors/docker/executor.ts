// The docker executor: docker-worker payloads in a real Docker engine (through dockerode).
// This first version runs images by name (pulled when missing), command, env, maxRunTime,
// onExitStatus and file/directory artifacts, with docker-worker's log and resolutions; what
// it cannot run yet (caches, capabilities, task/indexed images, features) is refused by name.

import type Docker from 'dockerode'
import { TaskFailure, type WorkerError } from '../../src/errors.js'
import type { TaskContext, TaskExecutor } from '../types.js'
import { collectDockerArtifacts } from './artifacts.js'
import { ensureImage, runContainer } from './container.js'
import { dockerWorkerLogFormat, writeDockerFooter, writeDockerHeader } from './log.js'
import { validateDockerPayload, type DockerPayload } from './payload.js'

interface DockerPrepared {
  payload: DockerPayload
  image: string
  container?: Docker.Container
}

/** The environment docker-worker gave containers: the payload's, then what a task cannot override. */
function containerEnv(ctx: TaskContext, payload: DockerPayload): Record<string, string> {
  const c = ctx.config
  return {
    ...(payload.env ?? {}),
    ...ctx.env,
    TASK_ID: ctx.taskId,
    RUN_ID: String(ctx.runId),
    TASKCLUSTER_WORKER_TYPE: c.workerType,
    TASKCLUSTER_WORKER_POOL: `${c.provisionerId}/${c.workerType}`,
    TASKCLUSTER_INSTANCE_TYPE: c.instanceType,
    TASKCLUSTER_WORKER_GROUP: c.workerGroup,
    TASKCLUSTER_PUBLIC_IP: c.publicIP,
    TASKCLUSTER_ROOT_URL: c.rootURL,
    TASKCLUSTER_WORKER_LOCATION: c.workerLocation,
  }
}

/** docker-worker's words for why a run was stopped. */
function abortMessage(reason: WorkerError, maxRunTime: number): string {
  switch (reason.code) {
    case 'MAX_RUN_TIME_EXCEEDED':
      return `Task timeout after ${maxRunTime} seconds. Force killing container.`
    case 'TASK_CANCELLED':
      return 'Task was canceled by another entity. This can happen using a taskcluster client or by cancelling a task within Treeherder.'
    default:
      return `Task has been aborted prematurely. Reason: ${reason.code === 'WORKER_SHUTDOWN' ? 'worker-shutdown' : 'internal-error'}`
  }
}

export const dockerExecutor: TaskExecutor<DockerPayload, DockerPrepared> = {
  name: 'docker',
  family: 'docker',
  logFormat: dockerWorkerLogFormat,

  accepts: (payload) => typeof payload === 'object' && payload !== null && 'image' in payload,

  validatePayload: validateDockerPayload,

  // live log by default; the rest is refused in validation until it exists
  features: (payload) => (payload.features?.localLiveLog === false ? [] : [{ name: 'liveLog', required: false }]),

  async prepare(ctx, payload) {
    const image = typeof payload.image === 'string' ? payload.image : payload.image.name!
    try {
      await ensureImage(image, ctx.log)
    } catch (err) {
      // docker-worker resolved the task failed, not exception, when the image could not be had
      ctx.log.error('Pulling docker image has failed.')
      ctx.log.error(`Error: ${(err as Error).message}`)
      throw new TaskFailure(`Pulling docker image ${image} has failed: ${(err as Error).message}`)
    }
    return { payload, image }
  },

  async run(ctx, prepared) {
    ctx.log.info('=== Task Starting ===')
    const result = await runContainer({
      image: prepared.image,
      command: prepared.payload.command ?? [],
      env: containerEnv(ctx, prepared.payload),
      label: `${ctx.taskId}-${ctx.runId}`,
      log: ctx.log,
      signal: ctx.signal,
      onCreated: (c) => (prepared.container = c),
    })
    if (result.aborted) ctx.log.error(abortMessage(ctx.signal.reason as WorkerError, prepared.payload.maxRunTime))
    ctx.log.info('=== Task Finished ===')
    return { exitCode: result.exitCode }
  },

  async result(ctx, prepared) {
    if (!prepared.container || prepared.payload.features?.artifacts === false) return []
    return collectDockerArtifacts({ container: prepared.container, artifacts: prepared.payload.artifacts ?? {}, taskDir: ctx.taskDir, taskExpires: ctx.task.expires, log: ctx.log })
  },

  async cleanup(_ctx, prepared) {
    await prepared.container?.remove({ force: true, v: true })
  },

  logHeader: writeDockerHeader,
  logFooter: writeDockerFooter,
}

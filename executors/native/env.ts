// The environment of a generic-worker task. Insecure engine: the worker's own environment minus
// anything that carries credentials, the variables generic-worker sets, then the payload's env on
// top. Multiuser engine: built from nothing, as generic-worker's.

import type { WorkerConfig } from '../../src/config/config.js'
import type { TaskDefinition } from '../../src/contract/taskcluster.js'
import type { TaskUser } from './task-user.js'

/** Never handed to a task: the worker's credentials and megalodon's own settings. */
function isPrivate(name: string): boolean {
  return /^TASKCLUSTER_(CLIENT_ID|ACCESS_TOKEN|CERTIFICATE)$/.test(name) || name.startsWith('MEGALODON_')
}

export function taskEnv(options: {
  workerEnv: NodeJS.ProcessEnv
  config: WorkerConfig
  task: TaskDefinition
  taskId: string
  runId: number
  taskDir: string
  featureEnv: Record<string, string>
  payloadEnv: Record<string, string> | undefined
}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(options.workerEnv)) if (v !== undefined && !isPrivate(k)) env[k] = v
  Object.assign(env, {
    TASK_ID: options.taskId,
    RUN_ID: String(options.runId),
    TASK_WORKDIR: options.taskDir,
    TASK_GROUP_ID: options.task.taskGroupId,
    TASKCLUSTER_ROOT_URL: options.config.rootURL,
  })
  if (options.config.instanceType) env.TASKCLUSTER_INSTANCE_TYPE = options.config.instanceType
  if (options.config.workerLocation) env.TASKCLUSTER_WORKER_LOCATION = options.config.workerLocation
  Object.assign(env, options.featureEnv, options.payloadEnv ?? {})
  return env
}

/** generic-worker's PATH for multiuser tasks (the payload may set its own). */
const MULTIUSER_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'

/**
 * The multiuser engine's environment, built from nothing as generic-worker's
 * (workers/generic-worker/multiuser_posix.go:133-166 EnvVars): none of the worker's own
 * variables reach a task user (security audit M3). HOME, PATH and USER are defaults the payload
 * may override; the TASK_* variables, TASKCLUSTER_ROOT_URL, DISPLAY and XDG_RUNTIME_DIR
 * (desktop-session mode), the worker location and instance type it may not. Features' variables
 * (the proxy URL…) and TASK_USER_CREDENTIALS (runTaskAsCurrentUser) come last, as
 * generic-worker's setVariable.
 */
export function multiuserEnv(options: {
  runAs: TaskUser | undefined
  config: WorkerConfig
  task: TaskDefinition
  taskId: string
  runId: number
  taskDir: string
  featureEnv: Record<string, string>
  payloadEnv: Record<string, string> | undefined
  headless: boolean
  credentialsFile: string | undefined
}): Record<string, string> {
  const { runAs, config } = options
  const env: Record<string, string> = {
    ...(runAs ? { HOME: runAs.home, USER: runAs.name } : {}),
    PATH: MULTIUSER_PATH,
    ...(options.payloadEnv ?? {}),
    TASK_ID: options.taskId,
    RUN_ID: String(options.runId),
    TASK_WORKDIR: options.taskDir,
    TASK_GROUP_ID: options.task.taskGroupId,
    TASKCLUSTER_ROOT_URL: config.rootURL,
  }
  if (!options.headless) {
    env.DISPLAY = ':0'
    if (runAs) env.XDG_RUNTIME_DIR = `/run/user/${runAs.uid}`
  }
  if (config.workerLocation) env.TASKCLUSTER_WORKER_LOCATION = config.workerLocation
  if (config.instanceType) env.TASKCLUSTER_INSTANCE_TYPE = config.instanceType
  Object.assign(env, options.featureEnv)
  if (options.credentialsFile) env.TASK_USER_CREDENTIALS = options.credentialsFile
  return env
}

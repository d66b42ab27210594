// The environment of a generic-worker task, built in generic-worker's order: a base (insecure:
// the worker's own environment minus its access token; multiuser: HOME, PATH, USER from
// nothing), the payload's env, then the variables the worker sets, which the payload cannot
// override, then the features' variables (workers/generic-worker/insecure.go:207-233,
// multiuser_posix.go:133-167, setVariable).

import type { WorkerConfig } from '../../src/config/config.js'
import type { TaskDefinition } from '../../src/contract/taskcluster.js'
import type { TaskUser } from './task-user.js'

/**
 * Never handed to a task: the worker's access token (all generic-worker removes,
 * insecure.go:211), and megalodon's own MEGALODON_<KEY> settings, which can carry any config
 * key, the access token included (generic-worker has no such variables).
 */
function isPrivate(name: string): boolean {
  return name === 'TASKCLUSTER_ACCESS_TOKEN' || name.startsWith('MEGALODON_')
}

/**
 * The worker's own environment as a child of generic-worker would inherit it, minus what only
 * megalodon's environment can hold (see isPrivate): for runAfterUserCreation, which
 * generic-worker runs with a nil Env (multiuser.go:97). Under worker-runner neither worker gets
 * its credentials through the environment (worker-runner passes its own, runmethod.go:32, and
 * the credentials in the config/protocol).
 */
export function inheritedWorkerEnv(workerEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(workerEnv)) if (v !== undefined && !isPrivate(k)) env[k] = v
  return env
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
  const env = inheritedWorkerEnv(options.workerEnv)
  Object.assign(env, options.payloadEnv ?? {}, workerSet(options))
  return Object.assign(env, options.featureEnv)
}

/** What generic-worker sets after the payload's env, so the payload cannot override it. */
function workerSet(options: { config: WorkerConfig; task: TaskDefinition; taskId: string; runId: number; taskDir: string }): Record<string, string> {
  const { config } = options
  return {
    TASK_ID: options.taskId,
    RUN_ID: String(options.runId),
    TASK_WORKDIR: options.taskDir,
    TASK_GROUP_ID: options.task.taskGroupId,
    TASKCLUSTER_ROOT_URL: config.rootURL,
    ...(config.workerLocation ? { TASKCLUSTER_WORKER_LOCATION: config.workerLocation } : {}),
    ...(config.instanceType ? { TASKCLUSTER_INSTANCE_TYPE: config.instanceType } : {}),
  }
}

/** generic-worker's PATH for multiuser tasks (the payload may set its own). */
const MULTIUSER_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'

/**
 * The multiuser engine's environment, built from nothing as generic-worker's
 * (workers/generic-worker/multiuser_posix.go:133-166 EnvVars): none of the worker's own
 * variables reach a task user (security audit M3). HOME, PATH and USER are the task user's
 * defaults the payload may override (with runTaskAsCurrentUser too: multiuser_posix.go:139-141);
 * the TASK_* variables, TASKCLUSTER_ROOT_URL, DISPLAY and XDG_RUNTIME_DIR (desktop-session mode),
 * the worker location and instance type it may not. Features' variables (the proxy URL…) and
 * TASK_USER_CREDENTIALS come last, as generic-worker's setVariable. runTaskAsCurrentUser drops
 * XDG_RUNTIME_DIR, the payload's included (run_task_as_current_user_posix.go:47-58).
 */
export function multiuserEnv(options: {
  user: TaskUser
  currentUser: boolean
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
  const { user, config } = options
  const env: Record<string, string> = {
    HOME: user.home,
    PATH: MULTIUSER_PATH,
    USER: user.name,
    ...(options.payloadEnv ?? {}),
    TASK_ID: options.taskId,
    RUN_ID: String(options.runId),
    TASK_WORKDIR: options.taskDir,
    TASK_GROUP_ID: options.task.taskGroupId,
    TASKCLUSTER_ROOT_URL: config.rootURL,
  }
  if (!options.headless) {
    env.DISPLAY = ':0'
    env.XDG_RUNTIME_DIR = `/run/user/${user.uid}`
  }
  if (config.workerLocation) env.TASKCLUSTER_WORKER_LOCATION = config.workerLocation
  if (config.instanceType) env.TASKCLUSTER_INSTANCE_TYPE = config.instanceType
  Object.assign(env, options.featureEnv)
  if (options.credentialsFile) env.TASK_USER_CREDENTIALS = options.credentialsFile
  if (options.currentUser) delete env.XDG_RUNTIME_DIR
  return env
}

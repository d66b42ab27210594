// The environment of a generic-worker task: the worker's own environment minus anything that
// carries credentials, the variables generic-worker sets, then the payload's env on top; the
// multiuser engine changes a few.

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
 * The multiuser engine's changes, as generic-worker's: the worker's session runtime directory
 * is not the task's; PATH, and the task user's HOME and USER, are defaults the payload may
 * override; DISPLAY (desktop-session mode) and TASK_USER_CREDENTIALS (runTaskAsCurrentUser) it
 * may not.
 */
export function multiuserEnv(
  env: Record<string, string>,
  options: { runAs: TaskUser | undefined; payloadEnv: Record<string, string> | undefined; headless: boolean; credentialsFile: string | undefined },
): Record<string, string> {
  const { runAs } = options
  const rest = { ...env }
  delete rest.XDG_RUNTIME_DIR
  const identity: Record<string, string> = runAs ? { HOME: runAs.home, USER: runAs.name, LOGNAME: runAs.name } : {}
  return {
    ...rest,
    PATH: MULTIUSER_PATH,
    ...identity,
    ...(options.payloadEnv ?? {}),
    ...(options.headless ? {} : { DISPLAY: ':0' }),
    ...(options.credentialsFile ? { TASK_USER_CREDENTIALS: options.credentialsFile } : {}),
  }
}

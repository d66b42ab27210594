// The environment of a generic-worker task (insecure engine): the worker's own environment
// minus anything that carries credentials, the variables generic-worker sets, then the
// payload's env on top.

import type { WorkerConfig } from '../../src/config.js'
import type { TaskDefinition } from '../../src/types.js'

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

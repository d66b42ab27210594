// The executor table: which executors this worker offers, picked by payload shape.
import type { TaskExecutor } from '../src/contract/executor.js'
import type { WorkerCredentials } from '../src/contract/taskcluster.js'
import { createDockerExecutor } from './docker/executor.js'
import { createNativeExecutor } from './native/executor.js'

/**
 * Both families, each executor new (it owns its worker's caches); a payload goes to the first
 * executor whose profile accepts its shape (`image` → docker).
 */
export function defaultExecutors(worker: { credentials?: WorkerCredentials; stateDir?: string } = {}): TaskExecutor[] {
  return [createNativeExecutor(worker) as TaskExecutor, createDockerExecutor({ credentials: worker.credentials }) as TaskExecutor]
}

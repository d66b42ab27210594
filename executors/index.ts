// The executor table: which executors this worker offers, picked by payload shape.
import type { TaskExecutor } from '../src/contract/executor.js'
import { createDockerExecutor } from './docker/executor.js'
import { nativeExecutor } from './native/executor.js'

export type { TaskExecutor, TaskContext, Feature, FeatureFactory, FeatureTable, ValidatedPayload, RunSummary } from '../src/contract/executor.js'

/** Both families; a payload goes to the first executor that accepts its shape (`image` → docker). */
export function defaultExecutors(): TaskExecutor[] {
  return [nativeExecutor as TaskExecutor, createDockerExecutor() as TaskExecutor]
}

// The executor table: which executors this worker offers, picked by payload shape.
import type { TaskExecutor } from './types.js'
import { nativeExecutor } from './native/executor.js'

export type { TaskExecutor, TaskContext, Feature, FeatureFactory, FeatureTable, ValidatedPayload, RunSummary } from './types.js'

export function defaultExecutors(): TaskExecutor[] {
  return [nativeExecutor as TaskExecutor]
}

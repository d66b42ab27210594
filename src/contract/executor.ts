// The executor contract: how a run gets a task's environment, runs its commands and finds its
// artifacts. One executor per way of running (native processes, Docker containers); each runs
// the payloads of one family, whose legacy rules it carries as its profile.

import type { WorkerConfig } from '../config/config.js'
import type { ArtifactSpec } from './artifacts.js'
import type { FamilyProfile } from './family.js'
import type { TaskContext } from './task-context.js'

/**
 * Where prepare registers how to undo what it made. AsyncDisposableStack is one; the core
 * disposes it after the features stop, whatever happened, in reverse order.
 */
export interface UndoStack {
  defer(undo: () => Promise<void> | void): void
}

/** What an executor gets from the worker it runs in, once per worker. */
export interface ExecutorHost {
  readonly config: WorkerConfig
  log(level: 'info' | 'warn', message: string): void
}

export interface TaskExecutor<P = unknown, Run = unknown> {
  readonly name: string
  readonly profile: FamilyProfile<P>
  /**
   * Build the task's environment. Register an undo step on `undo` the moment each thing exists
   * (task user, lent device, cache instance, network, container): the core undoes them after
   * the run whatever happened (prepare failed, aborted, finished). prepare never rolls back by
   * hand, and an undo step that fails decides the resolution only when it is a WorkerError (a
   * cache the task moved away).
   */
  prepare(ctx: TaskContext, payload: P, undo: UndoStack): Promise<Run>
  run(ctx: TaskContext, run: Run): Promise<{ exitCode: number }>
  result(ctx: TaskContext, run: Run): Promise<ArtifactSpec[]>
  /** Once when the worker starts: clean up what a previous run of this worker left (optional; safe to run twice). */
  startup?(host: ExecutorHost): Promise<void>
  /**
   * Between tasks, when tasksDir has less than requiredDiskSpaceMegabytes free: delete what this
   * executor keeps for later tasks and no running task uses (least recently used first) until
   * `enough()` says so or nothing is left to delete (optional).
   */
  collectGarbage?(host: ExecutorHost, enough: () => Promise<boolean>): Promise<void>
  /**
   * Before each claim attempt while the worker runs no task (optional): docker-worker's full
   * garbage collection sweep ran here.
   */
  idle?(host: ExecutorHost): Promise<void>
  /**
   * After a claimWork call that returned tasks, before any of them starts, whatever their
   * payloads (optional). docker-worker asked the purge-cache service here.
   */
  claimed?(host: ExecutorHost): Promise<void>
}

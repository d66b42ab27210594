// generic-worker's WORKER_METRICS lines (workers/generic-worker/metrics.go:10-33): one worker log
// line per lifecycle event, `WORKER_METRICS <json>`, the JSON a Go map marshalled (keys sorted,
// `<`, `>`, `&` escaped), which operators' log pipelines count boots, tasks and shutdowns from.
// docker-worker wrote the same events with `worker: "docker-worker"` (src/runtime.js:89-109);
// megalodon is configured and run as generic-worker, so it writes generic-worker's lines.

import { readFileSync } from 'node:fs'
import type { WorkerConfig } from '../config/config.js'
import { goMarshalFlatMap } from '../lib/go-json.js'
import type { Logger } from '../lib/logger.js'

export type WorkerEvent = 'instanceBoot' | 'workerReady' | 'taskQueued' | 'taskStart' | 'taskFinish' | 'instanceShutdown'

type MetricsConfig = Pick<WorkerConfig, 'provisionerId' | 'workerType' | 'workerId' | 'region' | 'instanceType'>

/** The line for one event; `task` for the task events (main.go:733-755). */
export function workerMetricsLine(event: WorkerEvent, config: MetricsConfig, at: Date, task?: { taskId: string; runId: number }): string {
  const fields: Record<string, string | number> = {
    eventType: event,
    worker: 'generic-worker',
    workerPoolId: `${config.provisionerId}/${config.workerType}`,
    workerId: config.workerId,
    // time.Time.Unix(): whole seconds, rounded down
    timestamp: Math.floor(at.getTime() / 1000),
    region: config.region,
    instanceType: config.instanceType,
  }
  if (task) {
    fields.taskId = task.taskId
    fields.runId = task.runId
  }
  return `WORKER_METRICS ${goMarshalFlatMap(fields)}`
}

/** Writes the event to the worker's log: under worker-runner a `log` message whose text is the line. */
export function logWorkerEvent(logger: Logger, config: MetricsConfig, event: WorkerEvent, at = new Date(), task?: { taskId: string; runId: number }): void {
  logger.info(workerMetricsLine(event, config, at, task))
}

/** When the host booted (/proc/stat `btime`), as gopsutil's host.Info().BootTime; undefined if unknown. */
export function hostBootTime(statFile = '/proc/stat'): Date | undefined {
  try {
    const line = readFileSync(statFile, 'utf8').split('\n').find((l) => l.startsWith('btime '))
    const secs = line ? Number(line.slice(6).trim()) : NaN
    return Number.isFinite(secs) ? new Date(secs * 1000) : undefined
  } catch {
    return undefined
  }
}

// Prometheus metrics (prom-client), one registry per worker: no global state, so tests can
// run several workers in one process.

import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Resolution } from '../contract/outcome.js'

export class WorkerMetrics {
  readonly registry = new Registry()
  private readonly claimed = new Counter({ name: 'megalodon_tasks_claimed_total', help: 'tasks claimed', registers: [this.registry] })
  private readonly resolved = new Counter({ name: 'megalodon_tasks_resolved_total', help: 'tasks resolved, by resolution', labelNames: ['state', 'reason'] as const, registers: [this.registry] })
  private readonly duration = new Histogram({
    name: 'megalodon_task_duration_seconds',
    help: 'claim to resolution',
    buckets: [0.05, 0.25, 1, 5, 30, 120, 600, 1800, 3600, 7200],
    registers: [this.registry],
  })
  private readonly claimLatency = new Histogram({
    name: 'megalodon_claim_work_duration_seconds',
    help: 'claimWork call duration (long polls included), by whether it returned work',
    labelNames: ['claimed'] as const,
    buckets: [0.01, 0.05, 0.25, 1, 5, 10, 20, 30],
    registers: [this.registry],
  })
  private readonly uploadBytes = new Counter({ name: 'megalodon_artifact_upload_bytes_total', help: 'artifact bytes uploaded (as sent)', registers: [this.registry] })
  private readonly uploadDuration = new Histogram({
    name: 'megalodon_artifact_upload_duration_seconds',
    help: 'one artifact upload',
    buckets: [0.01, 0.05, 0.25, 1, 5, 30, 120, 600],
    registers: [this.registry],
  })
  private readonly running = new Gauge({ name: 'megalodon_tasks_running', help: 'tasks running now', registers: [this.registry] })
  readonly cacheHits = new Counter({ name: 'megalodon_cache_hits_total', help: 'cache hits (mounts, images)', labelNames: ['kind'] as const, registers: [this.registry] })

  taskClaimed(): void {
    this.claimed.inc()
    this.running.inc()
  }

  taskResolved(resolution: Resolution, seconds: number): void {
    this.running.dec()
    this.duration.observe(seconds)
    this.resolved.inc({ state: resolution.state, reason: resolution.state === 'exception' ? resolution.reason : resolution.state })
  }

  claimWork(seconds: number, tasks: number): void {
    this.claimLatency.observe({ claimed: tasks > 0 ? 'yes' : 'no' }, seconds)
  }

  artifactUploaded(bytes: number, seconds: number): void {
    this.uploadBytes.inc(bytes)
    this.uploadDuration.observe(seconds)
  }
}

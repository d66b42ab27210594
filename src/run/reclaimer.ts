// Keeps a claim alive: reclaims before takenUntil, hands the new task credentials on, and
// turns a 409 (task cancelled, or resolved elsewhere) into an abort of the run.

import { InternalError, TaskCancelled } from '../contract/errors.js'
import { statusOf } from '../taskcluster/retry.js'
import type { Reclaimed } from '../contract/taskcluster.js'

export interface ReclaimerOptions {
  takenUntil: string
  /** Performs one reclaim (with its own retries); returns the new claim. */
  reclaim: (signal: AbortSignal) => Promise<Reclaimed>
  /** Called once when the run must stop: TaskCancelled for a 409, InternalError otherwise. */
  onLost: (reason: TaskCancelled | InternalError) => void
  onReclaimed?: (reclaimed: Reclaimed) => void
  /** The family's schedule (FamilyProfile.outcomes.reclaimDelayMs), when it has its own. */
  delayMs?: (remainingMs: number) => number
}

/** generic-worker reclaims 3 minutes before takenUntil; short claims (tests) reclaim halfway. */
const MAX_MARGIN_MS = 3 * 60_000

export function reclaimDelayMs(takenUntil: string, now = Date.now()): number {
  const remaining = new Date(takenUntil).getTime() - now
  const margin = Math.min(MAX_MARGIN_MS, remaining / 2)
  return Math.max(0, remaining - margin)
}

export function startReclaimer(options: ReclaimerOptions): { stop(): void } {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined

  const schedule = (takenUntil: string) => {
    const delay = options.delayMs ? Math.max(0, options.delayMs(new Date(takenUntil).getTime() - Date.now())) : reclaimDelayMs(takenUntil)
    timer = setTimeout(() => void reclaimOnce(), delay)
  }

  const reclaimOnce = async () => {
    try {
      const reclaimed = await options.reclaim(controller.signal)
      if (controller.signal.aborted) return
      options.onReclaimed?.(reclaimed)
      schedule(reclaimed.takenUntil)
    } catch (err) {
      if (controller.signal.aborted) return
      // the Queue's answer is kept: docker-worker printed it (src/task.js:279)
      if (statusOf(err) === 409) options.onLost(new TaskCancelled(undefined, { cause: err }))
      else options.onLost(new InternalError(`reclaiming the task failed: ${(err as Error).message}`, { cause: err }))
    }
  }

  schedule(options.takenUntil)
  return {
    stop() {
      controller.abort()
      if (timer) clearTimeout(timer)
    },
  }
}

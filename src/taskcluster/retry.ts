// Every network call to Taskcluster goes through withRetry: exponential backoff with jitter
// on 5xx and network errors, no retry on 4xx (the Queue's 4xx answers are final).

import pRetry, { AbortError } from 'p-retry'

export interface RetryOptions {
  /** Attempts after the first. Default 5 (taskcluster-client's own default). */
  retries?: number
  /** First delay in ms; doubles each attempt. Default 100. */
  minDelayMs?: number
  /** Cap on one delay in ms. Default 30 000. */
  maxDelayMs?: number
  /** Stops waiting and retrying when aborted. */
  signal?: AbortSignal
  /** Called before each retry (for logging). */
  onRetry?: (err: unknown, attempt: number) => void
}

/** HTTP status of an error from taskcluster-client, got, or our own HTTP helpers. */
export function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as { statusCode?: unknown; status?: unknown; response?: { statusCode?: unknown } }
  for (const v of [e.statusCode, e.status, e.response?.statusCode]) if (typeof v === 'number') return v
  return undefined
}

/** Retry 5xx and errors without an HTTP status (connection reset, timeout, DNS…). */
export function isRetryable(err: unknown): boolean {
  const status = statusOf(err)
  return status === undefined || status >= 500
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  return pRetry(
    async (attempt) => {
      try {
        return await fn(attempt)
      } catch (err) {
        if (options.signal?.aborted || !isRetryable(err)) throw new AbortError(err as Error)
        throw err
      }
    },
    {
      retries: options.retries ?? 5,
      factor: 2,
      minTimeout: options.minDelayMs ?? 100,
      maxTimeout: options.maxDelayMs ?? 30_000,
      randomize: true,
      signal: options.signal,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0 && isRetryable(error)) options.onRetry?.(error, attemptNumber)
      },
    },
  )
}

/**
 * Retries for taskcluster-client's downloadArtifact. Its default randomizationFactor comes out
 * undefined (the defaulting is inverted), which makes every retry delay NaN, i.e. no backoff at
 * all: it is given explicitly.
 */
export const artifactDownloadRetry = { retries: 3, randomizationFactor: 0.25 } as const

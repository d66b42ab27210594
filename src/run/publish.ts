// Publishing a run's artifacts: the task's own, a bounded number at a time, and the logs at the end.

import PQueue from 'p-queue'
import type { ArtifactPublisher, ArtifactSpec } from '../contract/artifacts.js'
import type { TaskClaim } from '../contract/taskcluster.js'

/**
 * Publishes every spec, `concurrency` at a time; every one is tried, and the first error of a
 * non-optional one is thrown after (generic-worker ignores an optional artifact's failure,
 * artifact_feature.go:115-118). `failed` hears of every failure.
 */
export async function publishAll(
  publisher: ArtifactPublisher,
  specs: ArtifactSpec[],
  concurrency: number,
  announce: (spec: ArtifactSpec) => void,
  failed: (spec: ArtifactSpec, err: unknown) => void = () => undefined,
): Promise<void> {
  const queue = new PQueue({ concurrency })
  let firstError: unknown
  for (const spec of specs) {
    void queue.add(async () => {
      announce(spec)
      try {
        await publisher.publish(spec)
      } catch (err) {
        if (!('optional' in spec && spec.optional === true)) firstError ??= err
        failed(spec, err)
      }
    })
  }
  await queue.onIdle()
  if (firstError !== undefined) throw firstError
}

/** The backing log (gzip), and the live log's name turned into a link to it. */
export async function publishLogs(publisher: ArtifactPublisher, logPath: string, claim: TaskClaim, names: { live: string | null; backing: string | null }): Promise<void> {
  if (!names.backing) return
  const expires = claim.task.expires
  await publisher.publish({ kind: 'file', name: names.backing, path: logPath, contentType: 'text/plain; charset=utf-8', contentEncoding: 'gzip', expires })
  if (names.live) await publisher.publish({ kind: 'link', name: names.live, artifact: names.backing, contentType: 'text/plain; charset=utf-8', expires })
}

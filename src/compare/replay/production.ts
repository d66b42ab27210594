// Reading a production run through the deployment's read APIs: its artifacts, streamed (never
// held in memory), and what its log says (exit code, footer) in either legacy worker's format.

import { createHash } from 'node:crypto'
import { Writable } from 'node:stream'
import { downloadArtifact } from 'taskcluster-client'
import { artifactDownloadRetry } from '../../taskcluster/retry.js'
import type { TaskDefinition } from '../../contract/taskcluster.js'

export interface QueueClient {
  task(taskId: string): Promise<TaskDefinition>
  status(taskId: string): Promise<{ status: { runs: Array<{ runId: number; state: string; reasonResolved?: string }> } }>
  listArtifacts(taskId: string, runId: number, query?: Record<string, string>): Promise<{ artifacts: Array<{ name: string; storageType: string }>; continuationToken?: string }>
}


export function exitCodeFromLog(log: string): number | undefined {
  const patterns = [/task run with exit code: (-?\d+) completed in/g, /^\[taskcluster [^\]]*\]\s+Exit Code: (-?\d+)\r?$/gm]
  let found: { at: number; code: number } | undefined
  for (const re of patterns) {
    for (const m of log.matchAll(re)) if (!found || m.index > found.at) found = { at: m.index, code: Number(m[1]) }
  }
  return found?.code
}

/**
 * The log's footer without timestamps (they always differ): the worker lines from the last
 * `=== Task Finished ===` on, less the artifact upload lines (their order varies), else the
 * last three worker lines.
 */
export function footerOf(log: string): string[] {
  const worker = log
    .split(/\r?\n/)
    .filter((l) => l.startsWith('[taskcluster'))
    .map((l) => l.replace(/^\[taskcluster [^\]]*\]/, '[taskcluster]'))
  const finished = worker.findLastIndex((l) => l.includes('=== Task Finished ==='))
  if (finished === -1) return worker.slice(-3)
  return worker.slice(finished).filter((l) => !/Uploading (error )?artifact/.test(l)).slice(0, 6)
}

export async function listAll(queue: QueueClient, taskId: string, runId: number): Promise<Array<{ name: string; storageType: string }>> {
  const out: Array<{ name: string; storageType: string }> = []
  let token: string | undefined
  do {
    const page = await queue.listArtifacts(taskId, runId, token ? { continuationToken: token } : {})
    out.push(...page.artifacts)
    token = page.continuationToken
  } while (token)
  return out
}

/**
 * Stream a production artifact's bytes to `onChunk`. downloadArtifact calls the stream factory
 * again for each retry, so every attempt starts over (`onStart`): a retried download is never
 * counted twice.
 */
export async function readArtifact(queue: QueueClient, taskId: string, runId: number, name: string, onStart: () => void, onChunk: (chunk: Buffer) => void): Promise<void> {
  await downloadArtifact({
    taskId,
    runId,
    name,
    queue: queue as never,
    ...artifactDownloadRetry,
    streamFactory: async () => {
      onStart()
      return new Writable({
        write(chunk: Buffer, _enc, done) {
          onChunk(chunk)
          done()
        },
      })
    },
  })
}

/** Size and sha256 of a production artifact's bytes, streamed (never held in memory). */
export async function productionFacts(queue: QueueClient, taskId: string, runId: number, name: string): Promise<{ size: number; sha256: string }> {
  let hash = createHash('sha256')
  let size = 0
  await readArtifact(queue, taskId, runId, name, () => ((hash = createHash('sha256')), (size = 0)), (chunk) => {
    hash.update(chunk)
    size += chunk.length
  })
  return { size, sha256: hash.digest('hex') }
}

export async function downloadText(queue: QueueClient, taskId: string, runId: number, name: string): Promise<string> {
  let chunks: Buffer[] = []
  await readArtifact(queue, taskId, runId, name, () => (chunks = []), (chunk) => chunks.push(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

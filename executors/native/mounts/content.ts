// The content of a generic-worker mount and where it goes: a file, a read-only directory or a
// writable cache, filled from a URL, an artifact, an indexed artifact, raw text or base64.

import { type ArchiveFormat, type CompressionFormat } from '../../../src/lib/archives/index.js'

export type Content =
  | { taskId: string; artifact: string; sha256?: string }
  | { namespace: string; artifact: string }
  | { url: string; sha256?: string }
  | { raw: string }
  | { base64: string }

export type Mount =
  | { file: string; content: Content; format?: CompressionFormat }
  | { directory: string; cacheName: string; content?: Content; format?: ArchiveFormat }
  | { directory: string; content: Content; format: ArchiveFormat }

export const isCache = (m: Mount): m is Extract<Mount, { cacheName: string }> => 'cacheName' in m

/** How a mount's content is described in log lines. */
export function describeContent(c: Content): string {
  if ('url' in c) return `url ${c.url}`
  if ('taskId' in c) return `artifact ${c.artifact} of task ${c.taskId}`
  if ('namespace' in c) return `artifact ${c.artifact} of indexed task ${c.namespace}`
  return 'raw' in c ? 'raw content' : 'base64 content'
}

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

/** How a mount's content is described in log lines: its String() (mounts_feature.go:1280-1286, 1323-1325, 1397-1399, 1422-1424). */
export function describeContent(c: Content): string {
  if ('url' in c) return `url ${c.url}`
  if ('taskId' in c) return `task ${c.taskId} artifact ${c.artifact}`
  if ('namespace' in c) return `namespace ${c.namespace} artifact ${c.artifact}`
  return 'raw' in c ? `Raw (${c.raw})` : `Base64 (${c.base64})`
}

/** generic-worker's cache key of the content, as its log lines show it (UniqueKey(): mounts_feature.go:1288-1295, 1327-1329, 1401-1403, 1426-1428). */
export function contentCacheKey(c: Content, resolvedTaskId?: string): string {
  if ('url' in c) return `urlcontent:${c.url}`
  if ('taskId' in c) return `artifact:${c.taskId}:${c.artifact}`
  if ('namespace' in c) return `artifact:${resolvedTaskId ?? ''}:${c.artifact}`
  return 'raw' in c ? `Raw content: ${c.raw}` : `Base64 content: ${c.base64}`
}

/** A mount's log line: info, or warn (the sha256 lines generic-worker warns with). */
export type MountLog = (line: string, level?: 'warn') => void

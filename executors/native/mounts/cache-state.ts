// generic-worker's cache tables, `directory-caches.json` and `file-caches.json` in the worker's
// working directory (mounts_feature.go:360-361,677-679), which operators' scripts read. megalodon
// keeps its own indexes beside the caches (the source of truth, so the docker family's caches
// in cachesDir never meet these); `megalodon run` also writes these views of them in
// generic-worker's shape each time a table changes. Each entry is its Cache struct
// (mounts_feature.go:215-245): created, location, hits, key, sha256, in_use, last_used.

import { randomBytes } from 'node:crypto'
import { rename, writeFile } from 'node:fs/promises'
import { PRIVATE_FILE_MODE } from '../../../src/lib/private-dir.js'

export interface GoCacheEntry {
  created: string
  location: string
  hits: number
  key: string
  sha256: string
  in_use: boolean
  last_used: string
}

/** A time as Go's time.Time marshals to JSON (RFC 3339 with trailing fraction zeros dropped, the local zone); undefined is the zero time. */
export function goTimeJson(ms: number | undefined): string {
  if (ms === undefined) return '0001-01-01T00:00:00Z'
  const offset = -new Date(ms).getTimezoneOffset()
  const [seconds, fraction] = new Date(ms + offset * 60_000).toISOString().slice(0, 23).split('.') as [string, string]
  const frac = fraction.replace(/0+$/, '')
  const pad = (n: number) => String(n).padStart(2, '0')
  const zone = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`
  return `${seconds}${frac ? `.${frac}` : ''}${zone}`
}

/**
 * Written as fileutil.WriteToFileAsJSON writes (two-space indent, a newline, a temporary file
 * renamed into place: fileutil.go:20-42), then mode 0600 as SecureFiles leaves it (:679).
 * Map keys sorted, as Go marshals a map.
 */
export async function writeCacheTable(file: string, table: Record<string, unknown>): Promise<void> {
  const sorted = Object.fromEntries(Object.keys(table).sort().map((k) => [k, table[k]]))
  const temporary = `${file}-${randomBytes(8).toString('hex')}`
  await writeFile(temporary, JSON.stringify(sorted, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n', { mode: PRIVATE_FILE_MODE })
  await rename(temporary, file)
}

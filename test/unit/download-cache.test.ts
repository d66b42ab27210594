// The download cache of mount content (executors/native/mounts/download-cache.ts).
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DownloadCache } from '../../executors/native/mounts/download-cache.js'
import { until } from '../helpers/tasks.js'

describe('download cache eviction', () => {
  it('never evicts a download a task is still unpacking', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-downloads-'))
    const cache = new DownloadCache(dir)
    // raw content needs nothing of the task context
    const ctx = {} as unknown as Parameters<typeof cache.with>[0]
    const lines: string[] = []
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    let seen = ''
    const using = cache.with(ctx, { raw: 'in use' }, (l) => lines.push(l), async (file) => {
      await held
      seen = readFileSync(file, 'utf8')
    })
    await until(() => lines.some((l) => l.includes('SHA256')))
    const evicted: string[] = []
    await cache.evict(async () => false, (l) => evicted.push(l))
    assert.equal(evicted.length, 0, 'pinned while in use')
    release()
    await using
    assert.equal(seen, 'in use')
    await cache.evict(async () => false, (l) => evicted.push(l))
    assert.equal(evicted.length, 1, 'evictable once the task is done with it')
  })
})

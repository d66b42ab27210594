// The cache rules both executors share (src/lib/cache-pool.ts), on a real directory.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CachePool, type CacheInstance } from '../../src/lib/cache-pool.js'

function pool(root: string, saved: CacheInstance[] = []) {
  const saves: number[] = []
  const p = new CachePool({
    load: async () => saved,
    save: async (all) => void saves.push(all.length),
    pathOf: (i) => path.join(root, i.id),
  })
  // a fresh instance gets its directory, as an executor would make it
  const acquire = async (name: string) => {
    const got = await p.acquire(name)
    if (got.fresh) mkdirSync(p.pathOf(got.instance))
    return got
  }
  return { p, acquire, saves }
}

const tick = () => new Promise((r) => setTimeout(r, 5))

describe('cache pool', () => {
  let root: string
  beforeEach(() => (root = mkdtempSync(path.join(os.tmpdir(), 'megalodon-pool-'))))

  it('gives a busy cache a new instance, and reuses the most recently used free one', async () => {
    const { p, acquire } = pool(root)
    const a = await acquire('c')
    const b = await acquire('c')
    assert.equal(a.fresh && b.fresh, true)
    assert.notEqual(a.instance.id, b.instance.id, 'one task per instance')
    await p.release(a.instance, false)
    await tick()
    await p.release(b.instance, false)
    const again = await acquire('c')
    assert.equal(again.fresh, false)
    assert.equal(again.instance.id, b.instance.id, 'the most recently released')
    assert.notEqual((await acquire('other')).instance.id, a.instance.id, 'names never share instances')
  })

  it('deletes a purged instance at once when free, and when released when a task holds it', async () => {
    const { p, acquire } = pool(root)
    const held = await acquire('c')
    const free = await acquire('c')
    await p.release(free.instance, false)
    const purged = await p.applyPurges([{ cacheName: 'c', before: new Date(Date.now() + 1000) }])
    assert.deepEqual(purged.map((i) => i.id), [free.instance.id])
    assert.equal(existsSync(p.pathOf(free.instance)), false)
    assert.equal(existsSync(p.pathOf(held.instance)), true, 'the task keeps what it holds')
    await p.release(held.instance, false)
    assert.equal(existsSync(p.pathOf(held.instance)), false, 'gone when released')
    assert.equal((await acquire('c')).fresh, true)
  })

  it('ignores purge requests older than the instance, and for other names', async () => {
    const { p, acquire } = pool(root)
    const c = await acquire('c')
    await p.release(c.instance, false)
    assert.deepEqual(await p.applyPurges([{ cacheName: 'c', before: new Date(Date.now() - 60_000) }, { cacheName: 'd', before: new Date(Date.now() + 1000) }]), [])
    assert.equal(existsSync(p.pathOf(c.instance)), true)
  })

  it('evicts free instances least recently used first, until there is enough, never one in use', async () => {
    const { p, acquire } = pool(root)
    const old = await acquire('a')
    const newer = await acquire('b')
    const busy = await acquire('c')
    await p.release(old.instance, false)
    await tick()
    await p.release(newer.instance, false)
    const evicted: string[] = []
    await p.evict(async () => evicted.length >= 1, (i) => evicted.push(i.name))
    assert.deepEqual(evicted, ['a'])
    await p.evict(async () => false, (i) => evicted.push(i.name))
    assert.deepEqual(evicted, ['a', 'b'], 'the held one stays whatever the shortage')
    assert.equal(existsSync(p.pathOf(busy.instance)), true)
  })

  it('takes back what a previous worker left as free instances, and deletes on purge release', async () => {
    const left: CacheInstance = { id: 'left', name: 'c', inUse: true, lastUsed: 1, created: 1 }
    mkdirSync(path.join(root, 'left'))
    const { p, acquire, saves } = pool(root, [left])
    const got = await acquire('c')
    assert.deepEqual([got.fresh, got.instance.id], [false, 'left'], 'no instance stays in use across a restart')
    await p.release(got.instance, true)
    assert.equal(existsSync(path.join(root, 'left')), false)
    assert.ok(saves.length >= 2, 'every change is saved')
  })
})

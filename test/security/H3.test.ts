// Audit H3: writable-cache content was unpacked as root, owners and setuid bits kept, into a
// world-traversable cachesDir: another task user ran the setuid-root binary. generic-worker
// unpacks as the task user (mounts_multiuser.go:42-51, so nothing is root's) and keeps cachesDir
// 0700 (mounts_feature.go:314-316). megalodon drops setuid/setgid bits and archive owners
// (src/lib/archives) and keeps cachesDir 0700 (src/lib/private-dir.ts).
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { mkdtempSync } from 'node:fs'
import { extractArchive } from '../../src/lib/archives/index.js'
import { canaries, isRoot, python, runTasks } from './harness.js'

describe('security H3: cache content never yields a setuid-root file another task user can reach', function () {
  this.timeout(90_000)
  before(function () {
    if (!isRoot()) this.skip()
  })
  it('the tar’s setuid-root cat is unpacked without setuid or root ownership, in a cachesDir no task user may enter', async () => {
    const c = canaries()
    const tgz = path.join(mkdtempSync(path.join(os.tmpdir(), 'megalodon-h3-')), 'suid-cache.tar.gz')
    python(`
import tarfile, io
with tarfile.open(${JSON.stringify(tgz)}, 'w:gz') as t:
    data = open('/bin/cat', 'rb').read()
    ti = tarfile.TarInfo('suidcat'); ti.size = len(data); ti.mode = 0o4755; ti.uid = 0; ti.gid = 0
    t.addfile(ti, io.BytesIO(data))
`)
    const base64 = readFileSync(tgz).toString('base64')
    const [a, b] = await runTasks(
      [
        {
          scopes: ['generic-worker:cache:c1'],
          payload: { maxRunTime: 30, command: [['sh', '-c', 'stat -c "%a %u" c1/suidcat']], mounts: [{ directory: 'c1', cacheName: 'c1', content: { base64 }, format: 'tar.gz' }] },
        },
        // another task user, no scopes: tries the cache where the audit found it
        { payload: { maxRunTime: 30, command: [['sh', '-c', `C=$(dirname $(dirname $TASK_WORKDIR))/caches; for f in $C/generic-worker::caches/*/suidcat; do "$f" ${c.secret}; done; echo done-trying`]] } },
      ],
      { engine: 'multiuser' },
    )
    assert.equal(a!.state, 'completed', a!.log)
    assert.match(a!.log, /^755 (?!0\b)\d+$/m) // no setuid bit, not root's
    assert.doesNotMatch(b!.log, new RegExp(c.secretText))
    const cachesDir = String(a!.config.cachesDir)
    assert.equal(statSync(cachesDir).mode & 0o777, 0o700)
    const root = path.join(cachesDir, 'generic-worker::caches')
    for (const id of readdirSync(root).filter((n) => !n.endsWith('.json'))) {
      const st = statSync(path.join(root, id, 'suidcat'))
      assert.equal(st.mode & 0o6000, 0, 'no setuid/setgid bit kept')
    }
  })
})

describe('security H3: unpacking as root keeps neither owners nor setuid bits', () => {
  before(function () {
    if (!isRoot()) this.skip()
  })
  it('a 4755 entry owned by uid 1234 is unpacked 0755 and the worker’s own', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'megalodon-h3-unit-'))
    const tarFile = path.join(work, 'suid.tar')
    python(`
import tarfile, io
with tarfile.open(${JSON.stringify(tarFile)}, 'w') as t:
    ti = tarfile.TarInfo('suidfile'); ti.size = 3; ti.mode = 0o4755; ti.uid = 1234; ti.gid = 1234
    t.addfile(ti, io.BytesIO(b'abc'))
    ti = tarfile.TarInfo('sgiddir'); ti.type = tarfile.DIRTYPE; ti.mode = 0o2755; ti.uid = 1234
    t.addfile(ti)
`)
    const out = path.join(work, 'out')
    await extractArchive(tarFile, out, 'tar')
    const f = statSync(path.join(out, 'suidfile'))
    assert.equal(f.mode & 0o7777, 0o755)
    assert.equal(f.uid, process.getuid!())
    const d = statSync(path.join(out, 'sgiddir'))
    assert.equal(d.mode & 0o6000, 0)
    assert.equal(d.uid, process.getuid!())
  })
})

// Audit C1: a zip mount whose symbolic links chain out of the mount (`lnk -> .`, then
// `lnk/lnk/…/esc -> ../../…`) had the worker, as root, write files anywhere on the host.
// generic-worker unpacks as the task user (workers/generic-worker/mounts_multiuser.go:42-51,
// `generic-worker unarchive` through process.NewCommand with the task's PlatformData), so an
// archive writes only where the task could; megalodon never writes through a link an archive
// made and never outside the target, on both engines.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { extractArchive, UnpackError } from '../../src/lib/archives/index.js'
import { canaries, isRoot, python, runTask } from './harness.js'

function chainZip(victimDir: string, victim: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'megalodon-c1-')), 'slip.zip')
  python(`
import zipfile, stat
K = 12
def link(z, name, target):
    zi = zipfile.ZipInfo(name); zi.create_system = 3
    zi.external_attr = (stat.S_IFLNK | 0o777) << 16
    z.writestr(zi, target)
with zipfile.ZipFile(${JSON.stringify(file)}, 'w') as z:
    link(z, 'lnk', '.')
    link(z, '/'.join(['lnk'] * K) + '/esc', '/'.join(['..'] * K))
    z.writestr('esc' + ${JSON.stringify(victimDir)} + '/zip-slip-proof.txt', 'written through a zip symlink chain\\n')
    z.writestr('esc' + ${JSON.stringify(victim)}, 'OVERWRITTEN by zip mount\\n')
`)
  return file
}

describe('security C1: archive symlink chains cannot write outside the mount', function () {
  this.timeout(90_000)
  for (const engine of ['insecure', 'multiuser'] as const) {
    it(`${engine}: the chained zip fails the mount and writes nothing outside it`, async function () {
      if (engine === 'multiuser' && !isRoot()) this.skip()
      const c = canaries()
      const zip = chainZip(c.dir, c.victim)
      const base64 = readFileSync(zip).toString('base64')
      const o = await runTask({ command: [['sh', '-c', 'ls -la mnt; id']], maxRunTime: 30, mounts: [{ directory: 'mnt', content: { base64 }, format: 'zip' }] }, { engine })
      assert.equal(readFileSync(c.victim, 'utf8'), 'ORIGINAL root-owned content')
      assert.equal(existsSync(path.join(c.dir, 'zip-slip-proof.txt')), false)
      // generic-worker fails a task whose mount cannot be unpacked (mounts_feature.go, Mount errors → Failure)
      assert.equal(o.state, 'failed', o.log)
      assert.match(o.log, /symbolic link/)
    })
  }
})

describe('security C1: extraction is bounded and never follows a link', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'megalodon-c1-unit-'))
  it('a zip link to a host file is refused and the host file is untouched', async () => {
    const c = canaries()
    const zip = path.join(work, 'same-name.zip')
    python(`
import zipfile, stat
with zipfile.ZipFile(${JSON.stringify(zip)}, 'w') as z:
    zi = zipfile.ZipInfo('v'); zi.create_system = 3; zi.external_attr = (stat.S_IFLNK | 0o777) << 16
    z.writestr(zi, ${JSON.stringify(c.victim)})
`)
    // a link pointing out is refused at once; so is one made to look inside then written through
    await assert.rejects(extractArchive(zip, path.join(work, 'out1'), 'zip'), UnpackError)
    assert.equal(readFileSync(c.victim, 'utf8'), 'ORIGINAL root-owned content')
  })
  it('stops at the entry and byte limits with a task error that says so', async () => {
    const zip = path.join(work, 'three.zip')
    python(`
import zipfile
with zipfile.ZipFile(${JSON.stringify(zip)}, 'w') as z:
    for n in ('a', 'b', 'c'): z.writestr(n, 'x' * 100)
`)
    await assert.rejects(extractArchive(zip, path.join(work, 'out2'), 'zip', { maxEntries: 2, maxBytes: 1e9 }), /more than 2 entries/)
    await assert.rejects(extractArchive(zip, path.join(work, 'out3'), 'zip', { maxEntries: 10, maxBytes: 150 }), /more than 150 bytes/)
    const tarFile = path.join(work, 'three.tar')
    python(`
import tarfile, io
with tarfile.open(${JSON.stringify(tarFile)}, 'w') as t:
    for n in ('a', 'b', 'c'):
        ti = tarfile.TarInfo(n); ti.size = 100; t.addfile(ti, io.BytesIO(b'x' * 100))
`)
    await assert.rejects(extractArchive(tarFile, path.join(work, 'out4'), 'tar', { maxEntries: 2, maxBytes: 1e9 }), /more than 2 entries/)
    await assert.rejects(extractArchive(tarFile, path.join(work, 'out5'), 'tar', { maxEntries: 10, maxBytes: 150 }), /more than 150 bytes/)
    await extractArchive(tarFile, path.join(work, 'out6'), 'tar', { maxEntries: 3, maxBytes: 300 })
  })
})

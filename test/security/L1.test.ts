// Audit L1: a directory artifact that is a link to a root-only directory was walked as root, so
// the names of the files in it became public error-artifact names. generic-worker walks with Go's
// filepath.WalkDir (artifact_feature.go:232), which does not descend a link, and resolves the
// link itself as a file, which exists as a directory: one invalid-resource-on-worker error
// (artifact_feature.go:292-298).
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { canaries, isRoot, runTask } from './harness.js'

describe('security L1: a directory artifact that is a link is not walked', function () {
  this.timeout(90_000)
  for (const engine of ['insecure', 'multiuser'] as const) {
    it(`${engine}: no name from the linked root-only directory is published`, async function () {
      if (engine === 'multiuser' && !isRoot()) this.skip()
      const c = canaries()
      const priv = path.join(c.dir, 'private-dir')
      mkdirSync(path.join(priv, 'sub'), { recursive: true, mode: 0o700 })
      writeFileSync(path.join(priv, 'CONFIDENTIAL-filename-1.pem'), 'x')
      writeFileSync(path.join(priv, 'sub', 'another-secret-name.key'), 'y')
      const o = await runTask(
        { maxRunTime: 30, command: [['sh', '-c', `ln -s ${priv} privdir`]], artifacts: [{ type: 'directory', path: 'privdir', name: 'public/privdir' }] },
        { engine },
      )
      const names = o.artifactNames().filter((n) => n.startsWith('public/privdir'))
      assert.deepEqual(names, ['public/privdir'])
      assert.equal(o.artifact('public/privdir')?.storageType, 'error')
      assert.equal(o.artifact('public/privdir')?.reason, 'invalid-resource-on-worker')
      assert.ok(!o.artifactNames().some((n) => /CONFIDENTIAL|another-secret/.test(n)))
    })
  }
})

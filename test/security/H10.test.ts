// Audit H10: an artifact symlinked to /proc/self/pagemap (st_size 0, hundreds of GB to EOF) was
// read whole into memory by the worker (5 GB RSS in 9 s). Every read of a task file now stops at
// a bound: uploads at the size stat gave, multiuser copies at the free space (and procfs/sysfs
// files are refused: they have no size), chain-of-trust additional data at 1 MiB.
// generic-worker copies as the task user with io.Copy (fileutil/fileutil.go:60-90), bounded only
// by the disk; megalodon adds the bound.
import assert from 'node:assert/strict'
import { isRoot, runTask } from './harness.js'

const payload = {
  maxRunTime: 30,
  command: [['sh', '-c', 'ln -s /proc/self/pagemap pm.txt; echo "{}" > ok.json']],
  artifacts: [{ type: 'file', path: 'pm.txt', name: 'public/pm.txt' }],
}

describe('security H10: task files are never read without a bound', function () {
  this.timeout(90_000)
  for (const engine of ['insecure', 'multiuser'] as const) {
    it(`${engine}: a link to /proc/self/pagemap resolves the task without the worker reading it to the end`, async function () {
      if (engine === 'multiuser' && !isRoot()) this.skip()
      const before = process.memoryUsage().rss
      const o = await runTask(payload, { engine })
      // the run ended (completed or failed with an error artifact), and the worker did not
      // swallow the file: its resident memory grew by less than the 1 GiB the audit saw in 1.6 s
      assert.ok(['completed', 'failed'].includes(o.state), o.log)
      assert.ok(process.memoryUsage().rss - before < 512 * 1024 * 1024)
      const a = o.artifact('public/pm.txt')
      assert.ok(a, 'an artifact (or error artifact) for pm.txt')
      if (engine === 'multiuser') assert.equal(a.storageType, 'error')
    })
  }
})

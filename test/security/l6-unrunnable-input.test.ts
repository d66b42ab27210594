// L6 (security-audit.md): a NUL byte in an env value or an argument, an argument list over
// E2BIG, or a payload nested 100,000 deep resolved exception/internal-error. Upstream:
// - a command that cannot start is a failed task: generic-worker records Start()'s error as the
//   result's SystemError, and on POSIX a SystemError is Failed(), never Crashed()
//   (workers/generic-worker/process/process.go:86-89, process/posix.go:19-21 and :52-54);
// - a payload nested deeper than Go's encoding/json takes (maxNestingDepth 10000) cannot be
//   decoded, which generic-worker's payload validation reports as malformed-payload.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { cliEntry } from '../../src/lib/paths.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

describe('L6: task input no command can be started with', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('a NUL byte in an env value or an argument, or an argument list over E2BIG, fails the task', async () => {
    for (const payload of [
      { command: [['true']], env: { A: 'x\u0000y' }, maxRunTime: 30 },
      { command: [['echo', 'x\u0000y']], maxRunTime: 30 },
      { command: [['echo', 'x'.repeat(3_000_000)]], maxRunTime: 30 },
    ]) {
      const o = await submitAndRun(fake, payload)
      assert.deepEqual([o.state, o.reason], ['failed', 'failed'], o.log.slice(-2000))
    }
  })

  it('a payload nested deeper than Go’s encoding/json accepts is malformed-payload (megalodon local, as the audit ran it)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'l6-'))
    // written as text: JSON.stringify itself overflows on 100,000 levels
    await writeFile(path.join(dir, 'p.json'), `{"command":[["true"]],"maxRunTime":30,"deep":${'['.repeat(100_000)}1${']'.repeat(100_000)}}`)
    await writeFile(path.join(dir, 'c.json'), JSON.stringify({ tasksDir: path.join(dir, 'tasks'), downloadsDir: path.join(dir, 'dl'), cachesDir: path.join(dir, 'caches') }))
    const r = spawnSync(process.execPath, [cliEntry, 'local', path.join(dir, 'p.json'), '--config', path.join(dir, 'c.json')], { encoding: 'utf8' })
    const out = r.stdout + r.stderr
    assert.match(out, /malformed-payload/, out.slice(-2000))
    assert.doesNotMatch(out, /internal-error/)
    assert.match(out, /nests deeper than 10000 levels/)
    await rm(dir, { recursive: true, force: true })
  })
})

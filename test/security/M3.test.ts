// Audit M3: multiuser task commands got the worker's whole environment (less 3 variables), and
// the worker's task-user helpers its full one. generic-worker builds the multiuser environment
// from nothing (workers/generic-worker/multiuser_posix.go:133-166 EnvVars) and runs its
// task-user helpers with an empty one (mounts_multiuser.go:43, artifacts_multiuser.go:14:
// `[]string{}`).
import assert from 'node:assert/strict'
import { isRoot, runTasks } from './harness.js'

describe('security M3: multiuser tasks get none of the worker’s environment', function () {
  this.timeout(90_000)
  before(function () {
    if (!isRoot()) this.skip()
  })
  it('a variable set only on the worker reaches neither the commands nor the payload’s defaults', async () => {
    const [o] = await runTasks(
      [{ payload: { maxRunTime: 30, env: { MINE: 'from-payload' }, command: [['sh', '-c', 'env | sort']] } }],
      { engine: 'multiuser', headlessTasks: true },
      { AUDIT_WORKER_ENV_SECRET: 's3cr3t-in-worker-env-M3', SOME_WORKER_SETTING: 'worker-only' },
      { process: true },
    )
    assert.equal(o!.state, 'completed', o!.log)
    assert.doesNotMatch(o!.log, /AUDIT_WORKER_ENV_SECRET|s3cr3t-in-worker-env-M3|SOME_WORKER_SETTING/)
    assert.match(o!.log, /^MINE=from-payload$/m)
    assert.match(o!.log, /^TASK_ID=/m)
    assert.match(o!.log, /^USER=task_[\w-]+$/m)
    assert.match(o!.log, /^PATH=\/usr\/local\/bin:\/usr\/bin:\/bin:\/usr\/sbin:\/sbin$/m)
  })
})

// The multiuser engine's end-to-end tests share one set-up: root, a group for osGroups, a fake
// Queue per test and a worker config on the multiuser engine whose tasks directory task users
// can reach.
import { execFileSync } from 'node:child_process'
import { chmodSync } from 'node:fs'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import type { RawConfig } from '../../src/config/config.js'
import { FakeQueue } from './fake-queue/index.js'
import { backingLog } from './tasks.js'
import { runWorker, workerConfig } from './worker.js'

export const MULTIUSER_POOL = 'test-provisioner/test-worker-type'
export const MULTIUSER_TEST_GROUP = 'megalodon-test-group'

export function userExists(name: string): boolean {
  try {
    execFileSync('getent', ['passwd', name], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export interface MultiuserHarness {
  fake: FakeQueue
  config: RawConfig
  run(payload: unknown, scopes?: string[], extra?: RawConfig): Promise<{ id: string; state: string; reason: string | undefined; log: string }>
}

/** Registers the hooks in the calling describe (skipped unless root); the harness is filled per test. */
export function multiuserHarness(): MultiuserHarness {
  const m = {} as MultiuserHarness
  before(function () {
    if (process.getuid?.() !== 0) this.skip()
    try {
      execFileSync('getent', ['group', MULTIUSER_TEST_GROUP], { stdio: 'ignore' })
    } catch {
      execFileSync('groupadd', [MULTIUSER_TEST_GROUP])
    }
  })
  beforeEach(async () => {
    m.fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    m.config = await workerConfig(m.fake, { engine: 'multiuser' })
    // the task user must be able to reach its directory under the test's private temp dir (the
    // worker opens tasksDir itself, not what an operator put above it)
    chmodSync(path.dirname(String(m.config.tasksDir)), 0o755)
  })
  afterEach(async () => m.fake?.stop())
  m.run = async (payload, scopes = [], extra = {}) => {
    const id = slugid()
    await m.fake.createTask(id, { payload, scopes })
    await runWorker(m.fake, { ...m.config, ...extra, numberOfTasksToRun: 1 })
    const r = m.fake.state.get(id).runs[0]!
    return { id, state: r.state, reason: r.reasonResolved, log: backingLog(m.fake, id) }
  }
  return m
}

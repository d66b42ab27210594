// generic-worker's WORKER_METRICS lines (workers/generic-worker/metrics.go:10-33, called at
// main.go:433 instanceBoot, :733-734 taskQueued/taskStart, :755 taskFinish, :867 workerReady,
// :212-224 instanceShutdown).
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { slugid } from 'taskcluster-client'
import { createLogger } from '../../src/lib/logger.js'
import { hostBootTime, workerMetricsLine } from '../../src/worker/worker-metrics.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { runWorker } from '../helpers/worker.js'

const config = { provisionerId: 'proj', workerType: 'linux', workerId: 'w-1', region: 'us-east-1', instanceType: 'm5<large>&' }

describe('WORKER_METRICS lines (generic-worker metrics.go)', () => {
  it('marshals the fields as a Go map: keys sorted, whole seconds, <>& escaped; taskId and runId only for task events', () => {
    assert.equal(
      workerMetricsLine('taskStart', config, new Date(1_700_000_000_999), { taskId: 'T', runId: 2 }),
      'WORKER_METRICS {"eventType":"taskStart","instanceType":"m5\\u003clarge\\u003e\\u0026","region":"us-east-1","runId":2,"taskId":"T","timestamp":1700000000,"worker":"generic-worker","workerId":"w-1","workerPoolId":"proj/linux"}',
    )
    assert.equal(
      workerMetricsLine('workerReady', config, new Date(0)),
      'WORKER_METRICS {"eventType":"workerReady","instanceType":"m5\\u003clarge\\u003e\\u0026","region":"us-east-1","timestamp":0,"worker":"generic-worker","workerId":"w-1","workerPoolId":"proj/linux"}',
    )
  })

  it('reads the boot time from /proc/stat btime', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'btime-'))
    writeFileSync(path.join(dir, 'stat'), 'cpu  1 2 3\nbtime 1699999000\nprocesses 5\n')
    assert.equal(hostBootTime(path.join(dir, 'stat'))?.getTime(), 1_699_999_000_000)
    assert.equal(hostBootTime(path.join(dir, 'missing')), undefined)
  })

  it('logs workerReady once, then taskQueued (at the task’s creation), taskStart and taskFinish for a task', async function () {
    this.timeout(60_000)
    const fake = await new FakeQueue().start()
    try {
      const lines: string[] = []
      const destination = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(...chunk.toString().split('\n').filter(Boolean)), cb()) })
      const taskId = slugid()
      await fake.createTask(taskId, { payload: { command: [['true']], maxRunTime: 30 } })
      await runWorker(fake, { numberOfTasksToRun: 1 }, undefined, createLogger({ destination }))
      const events = lines.map((l) => JSON.parse(l) as { msg: string }).map((r) => r.msg).filter((m) => m.startsWith('WORKER_METRICS ')).map((m) => JSON.parse(m.slice(15)) as Record<string, unknown>)
      assert.deepEqual(events.map((e) => e.eventType), ['workerReady', 'taskQueued', 'taskStart', 'taskFinish'])
      const created = Math.floor(Date.parse(fake.state.get(taskId).task.created as string) / 1000)
      assert.deepEqual([events[1]!.taskId, events[1]!.runId, events[1]!.timestamp], [taskId, 0, created])
      assert.equal(events[0]!.taskId, undefined)
    } finally {
      await fake.stop()
    }
  })
})

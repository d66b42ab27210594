// docker-worker's task log, byte for byte where it can be: worker lines as src/log.js:22-33 wrote
// them (no newline inserted before an info line, one of its own before an error, a prefix on a
// message's first line only), the caches in the header, the pull progress of dockerode-process
// 0.7.0, no upload lines, and the footer's duration as src/task.js:492-505 printed it.
import assert from 'node:assert/strict'
import { mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createDockerExecutor } from '../../executors/docker/executor.js'
import { dockerWorkerLogFormat, writeDockerFooter } from '../../executors/docker/log.js'
import { dockerFamily } from '../../executors/docker/family.js'
import type { TaskExecutor } from '../../src/contract/executor.js'
import type { TaskContext } from '../../src/contract/task-context.js'
import { TaskLog } from '../../src/lib/task-log.js'
import { FakeDockerEngine } from '../helpers/fake-docker-engine.js'
import { runDirect } from '../helpers/run-direct.js'
import { projectPath } from '../../src/lib/paths.js'
import { TaskclusterApiError } from '../../src/taskcluster/api-request.js'

const IMAGE = 'megalodon-test/fake:latest'
const TS = String.raw`\[taskcluster \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z\]`

function executorsWith(output: string, images = [IMAGE]): { engine: FakeDockerEngine; executors: TaskExecutor[] } {
  const engine = new FakeDockerEngine(() => ({ output, exitCode: 0 }))
  for (const i of images) engine.images_.add(i)
  return { engine, executors: [createDockerExecutor({ engine }) as TaskExecutor] }
}

async function logOf(write: (log: TaskLog) => void): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'dw-log-')), 'l.log')
  const log = await TaskLog.open(file, dockerWorkerLogFormat, { now: () => new Date('2026-11-23T10:00:00.000Z') })
  write(log)
  await log.close()
  return readFile(file, 'utf8')
}

describe('docker-worker task log lines', () => {
  it('writes worker lines as fmtLog/fmtErrorLog made them (src/log.js:22-33)', async () => {
    const text = await logOf((log) => {
      log.write('partial')
      log.info('after partial')
      log.write('more')
      log.error('first line\nsecond line')
      log.error('again')
    })
    // an info line continues a line without newline; every error brings exactly one newline
    assert.equal(text, ['partial[taskcluster 2026-11-23 10:00:00.000Z] after partial', 'more', '[taskcluster:error] first line', 'second line', '', '[taskcluster:error] again', ''].join('\n'))
  })

  it('glues "=== Task Finished ===" to output without a final newline (src/task.js:922, src/log.js:22-26)', async () => {
    const { executors } = executorsWith('no newline at the end')
    const r = await runDirect(executors, { image: IMAGE, command: ['x'], maxRunTime: 60 })
    assert.match(r.log, new RegExp(`no newline at the end${TS} === Task Finished ===\\n`))
  })

  it("names the node type, version and public IP as src/task.js:470-473 did (config.yml:66 'standalone', an unset publicIp `undefined`)", async () => {
    const { executors } = executorsWith('')
    const version = String((JSON.parse(await readFile(projectPath('package.json'), 'utf8')) as { version: unknown }).version)
    const unset = await runDirect(executors, { image: IMAGE, command: ['x'], maxRunTime: 60 })
    assert.match(unset.log, new RegExp(`${TS} Worker Node Type: standalone\n`))
    assert.match(unset.log, new RegExp(`${TS} Worker Version: ${version.replace(/\./g, '\\.')}\n`))
    assert.match(unset.log, new RegExp(`${TS} Public IP: undefined\n`))
    // header_footer_logs_test.js:63,74: the host's values when the worker has them
    const set = await runDirect(executors, { image: IMAGE, command: ['x'], maxRunTime: 60 }, { config: { instanceType: 'test-worker', publicIP: '127.0.0.1' } })
    assert.match(set.log, new RegExp(`${TS} Worker Node Type: test-worker\n`))
    assert.match(set.log, new RegExp(`${TS} Public IP: 127\\.0\\.0\\.1\n`))
  })

  it('writes "Could not reclaim task. Error: <the Queue\'s message>" when a reclaim answers 409, reclaiming at half the claim (src/task.js:233-247,278-286, config.yml:112)', async () => {
    const engine = new FakeDockerEngine(() => ({ hang: true }))
    engine.images_.add(IMAGE)
    const started = Date.now()
    const r = await runDirect([createDockerExecutor({ engine }) as TaskExecutor], { image: IMAGE, command: ['x'], maxRunTime: 600 }, {
      reclaim: {
        takenUntil: new Date(started + 3000).toISOString(),
        reclaim: async () => {
          throw new TaskclusterApiError(409, 'RequestConflict', 'run 0 of t is resolved', {})
        },
      },
    })
    assert.deepEqual(r.resolution, { state: 'none' })
    assert.ok(r.log.includes('\n[taskcluster:error] Could not reclaim task. Error: run 0 of t is resolved\n'), r.log)
    assert.doesNotMatch(r.log, /canceled by another entity/)
    // reclaims at (takenUntil - now) / reclaimDivisor 2: 10 minutes into a 20-minute claim, where
    // generic-worker's schedule waits 17
    assert.equal(dockerFamily.outcomes.reclaimDelayMs?.(20 * 60_000), 10 * 60_000)
  })

  it('lists the caches in the header, by mount point, before its blank line (src/task.js:476-489)', async () => {
    const { executors } = executorsWith('')
    const payload = { image: IMAGE, command: ['x'], maxRunTime: 60, cache: { 'cache-b': '/b', 'cache-a': '/mnt/a' } }
    const r = await runDirect(executors, payload, { task: { scopes: ['docker-worker:cache:*'] } })
    assert.match(r.log, new RegExp(`Hostname: \\S+\\n${TS} using cache "cache-b" -> /b\\n${TS} using cache "cache-a" -> /mnt/a\\n\\r\\n`))
    assert.equal(r.log.match(/using cache/g)?.length, 2)
  })

  it('prints the pull progress as dockerode-process 0.7.0 did (utils.js PullStatusStream), no line of its own', async () => {
    const { engine, executors } = executorsWith('', [])
    engine.pullable.add(IMAGE)
    const r = await runDirect(executors, { image: IMAGE, command: ['x'], maxRunTime: 60 })
    assert.deepEqual(r.resolution, { state: 'completed' })
    const pull = r.log.slice(r.log.indexOf('\r\n') + 2, r.log.indexOf('=== Task Starting'))
    assert.match(pull, /^layer1 - Started downloading\r\nlayer1 - Downloaded in \d+(\.\d+)? seconds\r\nDigest: sha256:0000\r\nStatus: Downloaded newer image for megalodon-test\/fake:latest\r\n\[taskcluster /)
    assert.doesNotMatch(r.log, /Pulling image|Pulling fs layer|Pull complete|Extracting/)
  })

  it('writes no upload lines, and a missing artifact as an info line (src/features/artifacts.js:51-70)', async () => {
    const { executors } = executorsWith('out\r\n')
    const r = await runDirect(executors, { image: IMAGE, command: ['x'], maxRunTime: 60, artifacts: { 'public/m.txt': { type: 'file', path: '/m.txt' } } })
    assert.deepEqual(r.resolution, { state: 'completed' })
    assert.match(r.log, new RegExp(`^${TS} Artifact "public/m.txt" not found at "/m.txt": `, 'm'))
    assert.doesNotMatch(r.log, /Uploading|taskcluster:error/)
  })

  it('prints the footer duration from the run start in JavaScript’s shortest form (src/task.js:498-504 "%d")', async () => {
    for (const [ms, shown] of [[3100, '3.1'], [12000, '12'], [10827, '10.827'], [50, '0.05']] as const) {
      const text = await logOf((log) => {
        const ctx = { log } as unknown as TaskContext
        const runStartedAt = new Date('2026-11-23T10:00:00.000Z')
        writeDockerFooter(ctx, { runStartedAt, startedAt: new Date(runStartedAt.getTime() + 5), finishedAt: new Date(runStartedAt.getTime() + ms), exitCode: 0 })
      })
      assert.equal(text, `[taskcluster 2026-11-23 10:00:00.000Z] Successful task run with exit code: 0 completed in ${shown} seconds\n`)
    }
  })
})

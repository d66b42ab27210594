// replay and shadow against "production": the fake Queue seeded with runs a legacy worker
// resolved, their backing logs in the legacy formats and their artifacts. The deployment is read
// anonymously, with the scopes deployments give their anonymous role.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { slugid } from 'taskcluster-client'
import { defaultExecutors } from '../../executors/index.js'
import { silentLogger } from '../../src/lib/logger.js'
import { exitCodeFromLog } from '../../src/compare/replay/production.js'
import { replay } from '../../src/compare/replay/replay.js'
import type { ReplayOptions } from '../../src/compare/replay/report.js'
import { cliEntry } from '../../src/lib/paths.js'
import { BUSYBOX_IMAGE, needsDocker } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { ANONYMOUS_ROLE, dockerWorkerLog, genericTask, genericWorkerLog, productionArtifacts } from '../helpers/production.js'

describe('megalodon replay', function () {
  let fake: FakeQueue
  let base: Omit<ReplayOptions, 'taskId'>
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    fake.auth.anonymousScopes = ANONYMOUS_ROLE
    base = { rootUrl: fake.rootUrl, executors: defaultExecutors(), logger: silentLogger(), config: { tasksDir: await mkdtemp(path.join(os.tmpdir(), 'megalodon-replay-test-')) } }
  })
  afterEach(async () => fake?.stop())

  it('reads exit codes from both legacy log formats', () => {
    assert.equal(exitCodeFromLog(genericWorkerLog(3)), 3)
    assert.equal(exitCodeFromLog(dockerWorkerLog(0)), 0)
    assert.equal(exitCodeFromLog(dockerWorkerLog(-1)), -1)
    assert.equal(exitCodeFromLog('no footer'), undefined)
  })

  it('matches a task that behaves as in production, artifact bytes included', async () => {
    const taskId = slugid()
    await fake.seedHistory({ taskId, task: genericTask(), state: 'completed', artifacts: productionArtifacts('hello\n', genericWorkerLog(0)) })
    const r = await replay({ ...base, taskId })
    assert.equal(r.verdict, 'matched', JSON.stringify(r, null, 2))
    assert.deepEqual([r.production?.state, r.production?.exitCode, r.local?.state, r.local?.exitCode], ['completed', 0, 'completed', 0])
    const out = r.artifacts.find((a) => a.name === 'public/out.txt')!
    assert.equal(out.status, 'same')
    assert.equal(out.production!.sha256, out.local!.sha256)
    assert.equal(out.local!.size, 6)
    assert.equal(r.artifacts.find((a) => a.name === 'public/logs/live_backing.log')!.status, 'not-compared')
    // nothing was claimed or reported: the production run is as it was
    assert.equal(fake.requests.filter((q) => ['claimWork', 'reportCompleted', 'reportFailed', 'reportException', 'createArtifact'].includes(q.method)).length, 0)
    assert.ok(fake.requests.filter((q) => q.method === 'task').every((q) => q.clientId === 'anonymous'))
  })

  it('compares the right bytes when a production download is retried', async () => {
    const taskId = slugid()
    await fake.seedHistory({ taskId, task: genericTask(), state: 'completed', artifacts: productionArtifacts('hello\n', genericWorkerLog(0)) })
    fake.injectFault({ method: 's3Get', status: 500, times: 2 })
    const r = await replay({ ...base, taskId })
    assert.equal(r.verdict, 'matched', JSON.stringify(r.differences))
    assert.equal(r.production?.exitCode, 0, 'the retried log download was read whole, once')
    assert.ok(fake.requests.filter((q) => q.method === 's3Get' && q.status === 500).length === 2, 'both faults were hit')
  })

  it('reports an artifact whose bytes differ, and one megalodon did not create', async () => {
    const taskId = slugid()
    const artifacts = [...productionArtifacts('hello from production\n', genericWorkerLog(0)), { name: 'public/extra.txt', content: 'only in production' }]
    await fake.seedHistory({ taskId, task: genericTask(), state: 'completed', artifacts })
    const r = await replay({ ...base, taskId })
    assert.equal(r.verdict, 'differed')
    const out = r.artifacts.find((a) => a.name === 'public/out.txt')!
    assert.equal(out.status, 'differs')
    assert.equal(out.production!.size, 22)
    assert.equal(out.local!.size, 6)
    assert.match(out.note!, /sha256 .* in production, .* here/)
    assert.equal(r.artifacts.find((a) => a.name === 'public/extra.txt')!.status, 'missing')
    assert.ok(r.differences.some((d) => /public\/extra.txt: megalodon did not create it/.test(d)))
    assert.ok(!r.differences.some((d) => /resolution|exit code/.test(d)), r.differences.join('\n'))
  })

  it('reports a different exit code and resolution', async () => {
    const taskId = slugid()
    await fake.seedHistory({ taskId, task: genericTask(), state: 'failed', artifacts: productionArtifacts('hello\n', genericWorkerLog(3)) })
    const r = await replay({ ...base, taskId })
    assert.equal(r.verdict, 'differed')
    assert.deepEqual(r.differences.filter((d) => !d.startsWith('artifact')), ['resolution: production failed, megalodon completed', 'exit code: production 3, megalodon 0'])
  })

  it('does not run a task that needs credentials unless given them', async () => {
    const taskId = slugid()
    await fake.seedHistory({ taskId, task: genericTask({ features: { taskclusterProxy: true } }), state: 'completed', artifacts: productionArtifacts('hello\n', genericWorkerLog(0)) })
    const r = await replay({ ...base, taskId })
    assert.equal(r.verdict, 'could-not-run')
    assert.match(r.why!, /^skipped: needs credentials \(features.taskclusterProxy\)/)
    assert.equal(r.local, undefined)
    assert.equal(r.production?.exitCode, 0, 'production is still described')
  })

  it('`megalodon replay` prints the comparison (and --json), exit 0 when matched, 1 when it differed', async () => {
    const same = slugid()
    const other = slugid()
    await fake.seedHistory({ taskId: same, task: genericTask(), state: 'completed', artifacts: productionArtifacts('hello\n', genericWorkerLog(0)) })
    await fake.seedHistory({ taskId: other, task: genericTask(), state: 'completed', artifacts: productionArtifacts('bye\n', genericWorkerLog(0)) })
    const cli = cliEntry
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [cli, 'replay', ...args, '--root-url', fake.rootUrl], { env: { ...process.env, TASKCLUSTER_CLIENT_ID: '', TASKCLUSTER_ACCESS_TOKEN: '' } }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      )
    const matched = await run([same])
    assert.equal(matched.code, 0, matched.out)
    assert.match(matched.out, /production: completed, exit code 0/)
    assert.match(matched.out, /megalodon: {2}completed, exit code 0/)
    assert.match(matched.out, /public\/out.txt\s+same\s+6 bytes, sha256 /)
    assert.match(matched.out, /Verdict: matched\n$/)
    const differed = await run([other, '--json'])
    assert.equal(differed.code, 1)
    const report = JSON.parse(differed.out) as { verdict: string; artifacts: Array<{ name: string; status: string }> }
    assert.equal(report.verdict, 'differed')
    assert.equal(report.artifacts.find((a) => a.name === 'public/out.txt')!.status, 'differs')
  })

  describe('docker-worker tasks (real engine)', function () {
    before(needsDocker)

    it('matches a docker-worker run and reads its footer', async () => {
      const taskId = slugid()
      const task = { payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo hello > /out.txt'], maxRunTime: 60, artifacts: { 'public/out.txt': { type: 'file', path: '/out.txt' } } } }
      await fake.seedHistory({ taskId, task, state: 'completed', artifacts: productionArtifacts('hello\n', dockerWorkerLog(0)) })
      const r = await replay({ ...base, taskId })
      assert.equal(r.verdict, 'matched', JSON.stringify(r, null, 2))
      assert.equal(r.family, 'docker')
      assert.deepEqual(r.production!.footer.at(-1), '[taskcluster] Successful task run with exit code: 0 completed in 0.5 seconds')
      assert.match(r.local!.footer.at(-1)!, /^\[taskcluster\] Successful task run with exit code: 0 completed in/)
    })

    it('says it could not run a task whose image cannot be had here', async () => {
      const taskId = slugid()
      await fake.seedHistory({ taskId, task: { payload: { image: '127.0.0.1:1/gone/image:latest', command: ['true'], maxRunTime: 60 } }, state: 'completed', artifacts: productionArtifacts(undefined, dockerWorkerLog(0)) })
      // docker-worker's pull backoff (config.yml dockerConfig: 15 s steps, 5 attempts, 4 image tries) in milliseconds
      const r = await replay({ ...base, taskId, config: { ...base.config, dockerConfig: { delayFactor: 5 } } })
      assert.equal(r.verdict, 'could-not-run')
      assert.match(r.why!, /cannot be had here: Pulling docker image has failed/)
    })
  })

  it('leaves the local run’s artifacts and logs in the directory it names', async () => {
    const taskId = slugid()
    await fake.seedHistory({ taskId, task: genericTask(), state: 'completed', artifacts: productionArtifacts('hello\n', genericWorkerLog(0)) })
    const r = await replay({ ...base, taskId })
    assert.ok(r.artifactsDir && existsSync(path.join(r.artifactsDir, 'public/out.txt')))
    assert.match(readFileSync(path.join(r.artifactsDir, 'public/logs/live_backing.log'), 'utf8'), /Exit Code: 0/)
  })
})

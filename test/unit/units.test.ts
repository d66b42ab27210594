// Unit tests of the pure parts: config, durations, content types, the task log, retries, reclaim timing.
import assert from 'node:assert/strict'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import nock from 'nock'
import taskcluster from 'taskcluster-client'
import { registryOf } from '../../executors/docker/container.js'
import { contentEncodingFor, contentTypeFor, loadHostTypes } from '../../executors/native/mime.js'
import { genericWorkerLogFormat } from '../../executors/native/log.js'
import { buildConfig, configFromEnv } from '../../src/config/config.js'
import { ConfigError } from '../../src/contract/errors.js'
import { formatGoDuration } from '../../src/lib/go-duration.js'
import { reclaimDelayMs } from '../../src/run/reclaimer.js'
import { withRetry } from '../../src/taskcluster/retry.js'
import { taskDirName } from '../../src/lib/task-dir.js'
import { TaskLog } from '../../src/lib/task-log.js'

describe('config', () => {
  it('applies generic-worker defaults', () => {
    const c = buildConfig([{ workerType: 'wt' }])
    assert.equal(c.provisionerId, 'test-provisioner')
    assert.equal(c.workerGroup, 'test-worker-group')
    assert.equal(c.capacity, 1)
    assert.equal(c.maxTaskRunTime, 86400)
    assert.equal(c.cleanUpTaskDirs, true)
    assert.equal(c.createObjectArtifacts, false)
    assert.ok(path.isAbsolute(c.tasksDir) && c.tasksDir.endsWith('tasks'))
  })
  it('refuses an unknown key by name', () => {
    assert.throws(() => buildConfig([{ workerType: 'wt', livelogSecret: 'x' }]), (e: Error) => e instanceof ConfigError && /"livelogSecret"/.test(e.message))
  })
  it('refuses a wrong type, naming the key (booleans must be booleans)', () => {
    assert.throws(() => buildConfig([{ cleanUpTaskDirs: 'true' }]), /"cleanUpTaskDirs" must be a boolean/)
    assert.throws(() => buildConfig([{ capacity: 0 }]), /"capacity" must be between 1 and 255/)
  })
  it('splits workerPoolId', () => {
    const c = buildConfig([{ workerPoolId: 'proj/linux-large' }])
    assert.deepEqual([c.provisionerId, c.workerType], ['proj', 'linux-large'])
  })
  it('accepts generic-worker keys it does not act on yet, and remembers them', () => {
    const c = buildConfig([{ disableReboots: true, sentryProject: 'generic-worker' }])
    assert.deepEqual(c.notApplied, { disableReboots: true, sentryProject: 'generic-worker' })
  })
  it('takes overrides from TASKCLUSTER_* and MEGALODON_* variables', () => {
    const env = configFromEnv({ TASKCLUSTER_ROOT_URL: 'https://tc.example.com', MEGALODON_WORKER_GROUP: 'g1', MEGALODON_CAPACITY: '4', HOME: '/root' })
    assert.deepEqual(env, { rootURL: 'https://tc.example.com', workerGroup: 'g1', capacity: 4 })
    assert.equal(buildConfig([{ workerGroup: 'file' }, env]).workerGroup, 'g1')
  })
  it('requires credentials for `run`, and a valid publicIP', () => {
    assert.throws(() => buildConfig([{}], { required: ['clientId'] }), /"clientId" is required/)
    assert.throws(() => buildConfig([{ publicIP: 'not-an-ip' }]), /publicIP/)
  })
})

describe('Go durations', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '0s'],
    [999n, '999ns'],
    [1_500n, '1.5µs'],
    [12_500_000n, '12.5ms'],
    [1_234_567_890n, '1.23456789s'],
    [62_500_000_000n, '1m2.5s'],
    [3_600_000_000_000n, '1h0m0s'],
  ]
  for (const [n, s] of cases) it(`${n}ns → ${s}`, () => assert.equal(formatGoDuration(n), s))
})

describe('content types and encodings (generic-worker rules)', () => {
  it('uses generic-worker’s own map first, then Go’s built-ins', () => {
    assert.equal(contentTypeFor('a/b.log'), 'text/plain')
    assert.equal(contentTypeFor('x.jsonl'), 'application/jsonl')
    assert.equal(contentTypeFor('x.json'), 'application/json')
    assert.equal(contentTypeFor('x.HTML'), 'text/html; charset=utf-8')
    assert.equal(contentTypeFor('no-extension'), 'application/octet-stream')
  })
  it('reads globs2 without overriding built-ins, or else mime.types (which override), adding charset to text types', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mime-'))
    await writeFile(path.join(dir, 'globs2'), '# comment\n50:text/x-foo:*.foo\n50:application/x-json-alt:*.json\n40:text/x-other:*.foo\n')
    await writeFile(path.join(dir, 'mime.types'), 'application/x-bar\tbar baz\ntext/x-qux qux\napplication/x-json-alt json\n')
    const fromGlobs = loadHostTypes({ globs: [path.join(dir, 'globs2')], mimeTypes: [path.join(dir, 'mime.types')] })
    assert.equal(fromGlobs.get('.foo'), 'text/x-foo; charset=utf-8')
    assert.equal(fromGlobs.get('.json'), 'application/json')
    assert.equal(fromGlobs.has('.bar'), false)
    const fromTypes = loadHostTypes({ globs: [path.join(dir, 'missing')], mimeTypes: [path.join(dir, 'mime.types')] })
    assert.equal(fromTypes.get('.baz'), 'application/x-bar')
    assert.equal(fromTypes.get('.qux'), 'text/x-qux; charset=utf-8')
    assert.equal(fromTypes.get('.json'), 'application/x-json-alt')
  })
  it('uploads already-compressed extensions with identity encoding, the rest gzip', () => {
    for (const f of ['a.zip', 'a.tar.gz', 'a.ZST', 'a.png', 'a.whl', 'a.lz4']) assert.equal(contentEncodingFor(f), 'identity', f)
    for (const f of ['a.txt', 'a.tar', 'a.json', 'noext']) assert.equal(contentEncodingFor(f), 'gzip', f)
  })
})

describe('task log', () => {
  it('prefixes every line of worker messages, keeps task output raw and in order, starts worker lines on a new line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'log-'))
    const now = new Date('2026-11-23T10:00:00.000Z')
    const log = await TaskLog.open(path.join(dir, 'l.log'), genericWorkerLogFormat, { now: () => now })
    const seen: Buffer[] = []
    log.addSink((c) => seen.push(c))
    log.info('one\ntwo')
    log.write('raw output without newline')
    log.error('bad')
    log.warn('careful')
    await log.close()
    const expected = [
      '[taskcluster 2026-11-23T10:00:00.000Z] one',
      '[taskcluster 2026-11-23T10:00:00.000Z] two',
      'raw output without newline',
      '[taskcluster:error] bad',
      '[taskcluster:warn 2026-11-23T10:00:00.000Z] careful',
      '',
    ].join('\n')
    assert.equal(await readFile(path.join(dir, 'l.log'), 'utf8'), expected)
    assert.equal(Buffer.concat(seen).toString(), expected)
  })
})

describe('retry helper', () => {
  const rootUrl = 'https://tc.retry.test'
  afterEach(() => nock.cleanAll())
  const queue = () => new taskcluster.Queue({ rootUrl, retries: 0, timeout: 2000, credentials: { clientId: 'c', accessToken: 't' } })

  it('retries 5xx until success', async () => {
    const scope = nock(rootUrl).post('/api/queue/v1/task/T/runs/0/completed').times(2).reply(500, {}).post('/api/queue/v1/task/T/runs/0/completed').reply(200, { status: {} })
    await withRetry(() => queue().reportCompleted('T', 0), { minDelayMs: 1, maxDelayMs: 5 })
    assert.ok(scope.isDone())
  })
  it('retries connection errors', async () => {
    const scope = nock(rootUrl).post('/api/queue/v1/task/T/runs/0/failed').replyWithError({ code: 'ECONNRESET' }).post('/api/queue/v1/task/T/runs/0/failed').reply(200, { status: {} })
    await withRetry(() => queue().reportFailed('T', 0), { minDelayMs: 1, maxDelayMs: 5 })
    assert.ok(scope.isDone())
  })
  it('never retries a 4xx', async () => {
    let calls = 0
    nock(rootUrl).post('/api/queue/v1/task/T/runs/0/reclaim').times(3).reply(() => (calls++, [409, { code: 'RequestConflict', message: 'no' }]))
    await assert.rejects(withRetry(() => queue().reclaimTask('T', 0), { minDelayMs: 1 }), (e: { statusCode: number }) => e.statusCode === 409)
    assert.equal(calls, 1)
  })
  it('gives up after the configured retries', async () => {
    nock(rootUrl).post('/api/queue/v1/task/T/runs/0/completed').times(3).reply(503, {})
    await assert.rejects(withRetry(() => queue().reportCompleted('T', 0), { retries: 2, minDelayMs: 1, maxDelayMs: 2 }), (e: { statusCode: number }) => e.statusCode === 503)
  })
})

describe('docker registries', () => {
  it('finds the registry of an image name, for its pull credentials', () => {
    assert.equal(registryOf('ubuntu:24.04'), 'docker.io')
    assert.equal(registryOf('taskcluster/livelog:v4'), 'docker.io')
    assert.equal(registryOf('127.0.0.1:5000/megalodon/busybox:latest'), '127.0.0.1:5000')
    assert.equal(registryOf('registry.example.com/team/image'), 'registry.example.com')
    assert.equal(registryOf('localhost/image'), 'localhost')
  })
})

describe('reclaim timing and task directories', () => {
  it('reclaims 3 minutes before takenUntil for 20-minute claims, halfway for short ones', () => {
    const now = Date.parse('2026-11-23T10:00:00Z')
    assert.equal(reclaimDelayMs('2026-11-23T10:20:00Z', now), 17 * 60_000)
    assert.equal(reclaimDelayMs('2026-11-23T10:00:04Z', now), 2000)
    assert.equal(reclaimDelayMs('2026-11-23T09:59:00Z', now), 0)
  })
  it('names task directories task_<id>_<run> in at most 20 characters', () => {
    assert.equal(taskDirName('KTBKfEgxR5GdfIIREQIvFQ', 0), 'task_KTBKfEgxR5Gdf_0')
    assert.ok(taskDirName('a-b_c', 12).length <= 20)
    assert.equal(taskDirName('a-b_c', 12), 'task_abc_12')
  })
})

// docker-worker's integration-test assertions on payload refusal and post-run failures, against
// the docker family on an in-memory engine (upstream paths under workers/docker-worker/test/integration/).
import assert from 'node:assert/strict'
import { createDockerExecutor } from '../../executors/docker/executor.js'
import { ResourceUnavailable } from '../../src/contract/errors.js'
import type { TaskExecutor } from '../../src/contract/executor.js'
import { FakeDockerEngine } from '../helpers/fake-docker-engine.js'
import { runDirect } from '../helpers/run-direct.js'

const IMAGE = 'megalodon-test/fake:latest'

function setup(exitCode = 0) {
  const engine = new FakeDockerEngine(() => ({ output: 'ran\r\n', exitCode }))
  engine.images_.add(IMAGE)
  return { engine, executors: [createDockerExecutor({ engine }) as TaskExecutor] }
}

const inTwoYears = () => new Date(Date.now() + 2 * 365 * 86400_000).toISOString()

describe('docker-worker integration-test outcomes', () => {
  it('refuses an artifact expiring after the task before running (invalid_payload_schema_test.js:25-47)', async () => {
    const { engine, executors } = setup()
    const r = await runDirect(executors, { image: IMAGE, command: ['ls'], maxRunTime: 60, artifacts: { 'public/xfoo': { type: 'file', expires: inTwoYears(), path: '/artifacts/xfoo.txt' } } })
    assert.deepEqual(r.resolution, { state: 'exception', reason: 'malformed-payload' })
    assert.ok(r.log.includes('must not be greater than task expiration'), r.log)
    assert.match(r.log, /Artifact expiration for 'public\/xfoo' must not be greater than task expiration\. Artifact expiration is '\w{3} \w{3} \d\d \d{4} [\d:]{8} GMT/)
    assert.equal(engine.calls.includes('containers.create'), false)
  })

  it('words schema errors as docker-worker’s ajv 7 (invalid_payload_schema_test.js:49-66)', async () => {
    const { executors } = setup()
    const r = await runDirect(executors, { image: IMAGE, command: ['ls'], maxRunTime: 60, onExitStatus: { retry: ['1'] } })
    assert.deepEqual(r.resolution, { state: 'exception', reason: 'malformed-payload' })
    assert.ok(r.log.includes('data/onExitStatus/retry/0 should be integer'), r.log)
    // one error message, the JSON array after "errors:\n " (src/task.js:507-512, src/validate.js:127-135)
    assert.ok(r.log.includes('\n[taskcluster:error] `task.payload` format is invalid json schema errors:\n [\n  "\\nSchema Validation Failed!\\nRejecting Schema: http://127.0.0.1:1/schemas/docker-worker/v1/payload.json#\\nErrors:\\n  * data/onExitStatus/retry/0 should be integer"\n]\n'), r.log)
  })

  it('lists schema errors and the expiry problem together (invalid_payload_schema_test.js:68-92)', async () => {
    const { executors } = setup()
    const r = await runDirect(executors, { image: IMAGE, command: ['ls'], maxRunTime: 'hello', artifacts: { 'public/xfoo': { type: 'file', expires: inTwoYears(), path: '/artifacts/xfoo.txt' } } })
    assert.deepEqual(r.resolution, { state: 'exception', reason: 'malformed-payload' })
    for (const s of ['format is invalid json schema errors', 'must not be greater than task expiration', 'maxRunTime']) assert.ok(r.log.includes(s), s)
  })

  it('accepts a date-time without a time zone, as ajv-formats 2 did', async () => {
    const { executors } = setup()
    const r = await runDirect(executors, { image: IMAGE, command: ['ls'], maxRunTime: 60, artifacts: { 'public/a': { type: 'file', expires: '2000-01-01T00:00:00', path: '/a' } } })
    assert.notDeepEqual(r.resolution, { state: 'exception', reason: 'malformed-payload' }, r.log)
  })

  it('fails the run when an artifact upload fails, still uploading the others (src/features/artifacts.js:174-181,223-229, src/task.js:942-954)', async () => {
    const { engine, executors } = setup()
    engine.files.set('/a.txt', 'a').set('/b.txt', 'b')
    const failUpload = (name: string) => (name === 'public/a.txt' ? new ResourceUnavailable('HTTP 500 from the object store') : undefined)
    const r = await runDirect(executors, { image: IMAGE, command: ['x'], maxRunTime: 60, artifacts: { 'public/a.txt': { type: 'file', path: '/a.txt' }, 'public/b.txt': { type: 'file', path: '/b.txt' } } }, { failUpload })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.ok(r.log.includes('\n[taskcluster:error] Error uploading "public/a.txt" artifact. HTTP 500 from the object store\n'), r.log)
    assert.ok(r.log.includes("\n[taskcluster:error] Error: Error calling 'stopped' for artifactHandler : Error: Encountered error when uploading artifact(s)\n"))
    // the commands succeeded, so the footer says -1 (src/task.js:945-950)
    assert.match(r.log, /Unsuccessful task run with exit code: -1 completed in/)
    // every artifact is still tried: the other one was uploaded
    assert.deepEqual(r.publisher.index.map((e) => e.name).filter((n) => String(n).startsWith('public/') && !String(n).startsWith('public/logs')), ['public/b.txt'])
  })

  it('keeps a failing exit code in the footer after an upload failure (src/task.js:945-950)', async () => {
    const { engine, executors } = setup(3)
    engine.files.set('/a.txt', 'a')
    const r = await runDirect(executors, { image: IMAGE, command: ['x'], maxRunTime: 60, artifacts: { 'public/a.txt': { type: 'file', path: '/a.txt' } } }, { failUpload: () => new ResourceUnavailable('down') })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.match(r.log, /Unsuccessful task run with exit code: 3 completed in/)
  })

  it('fails a payload naming an unknown feature before anything runs (invalid_feature_test.js:23-37)', async () => {
    const { engine, executors } = setup()
    const r = await runDirect(executors, { image: IMAGE, features: { invalidFeature: true }, artifacts: {}, command: ['sleep', '5'], maxRunTime: 300 })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.ok(r.log.includes('\n[taskcluster:error] Error: invalidFeature is not part of valid features\n'), r.log)
    assert.equal(engine.calls.includes('images.exists'), false)
  })

  it('fails bulkLog, which the worker does not enable, whatever its value (features_test.js:7-33, src/task.js:69-73)', async () => {
    for (const bulkLog of [true, false]) {
      const { engine, executors } = setup()
      const r = await runDirect(executors, { image: IMAGE, command: ['/bin/true'], features: { bulkLog }, maxRunTime: 300 })
      assert.deepEqual(r.resolution, { state: 'failed' })
      assert.ok(r.log.includes('Error: bulkLog is not enabled on this worker'), r.log)
      assert.equal(engine.calls.includes('containers.create'), false)
    }
  })

  it('fails a cache name containing "::" with docker-worker’s words (container_volume_caching_test.js:365-385)', async () => {
    const { engine, executors } = setup()
    const r = await runDirect(executors, { image: IMAGE, command: ['true'], maxRunTime: 300, cache: { 'docker-worker-garbage-caches-tmp-obj-dir::x': '/tmp-obj-dir' } }, { task: { scopes: ['docker-worker:cache:*'] } })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.ok(r.log.includes('Error: Invalid key name was provided'), r.log)
    assert.ok(r.log.includes('Docker configuration could not be created.  This may indicate an authentication error when validating scopes necessary for running the task. \n Error: Invalid key name was provided.  Ensure that the cache name does not contain "::".\n'))
    assert.equal(engine.calls.includes('containers.create'), false)
  })

  it('fails a private image artifact without the scope, in docker-worker’s words (pull_image_test.js:185-209)', async () => {
    const { engine, executors } = setup()
    const image = { type: 'task-image', taskId: 'Qa1b2c3d4e5f6g7h8i9j0k', path: 'private/docker-worker-tests/image.tar' }
    const r = await runDirect(executors, { image, command: ['ls', '/bin'], maxRunTime: 300 })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.ok(r.log.includes('Not authorized to use'), r.log)
    assert.ok(r.log.includes(`Error: Not authorized to use ${JSON.stringify(image)}.  Ensure that the task scopes are correctly defined in the task definition`))
    assert.equal(engine.calls.includes('images.load'), false)
  })
})

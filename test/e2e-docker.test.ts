// docker-worker payloads end to end: the fake Queue and a real Docker engine.
import assert from 'node:assert/strict'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from './helpers/fake-queue/index.js'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from './helpers/docker.js'
import { submitAndRun, until } from './helpers/tasks.js'
import { runWorker } from './helpers/worker.js'
import type Docker from 'dockerode'

async function taskContainers(docker: Docker): Promise<number> {
  return (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['megalodon.task'] }) })).length
}

describe('docker executor end to end (fake Queue, real engine)', function () {
  let fake: FakeQueue
  let docker: Docker
  before(async function () {
    if (!dockerTestsEnabled()) this.skip()
    docker = await dockerForTests()
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => {
    await fake?.stop()
    if (docker) assert.equal(await taskContainers(docker), 0, 'every task container was removed')
  })

  it('completes hello world with docker-worker’s header and footer', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo hello world'], maxRunTime: 60 })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    const ts = String.raw`\[taskcluster \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z\]`
    for (const line of [`Task ID: ${o.taskId}`, 'Worker ID: test-worker', 'Worker Group: test-worker-group', 'Worker Pool: test-provisioner/test-worker-type', 'Hostname: \\S+', '=== Task Starting ===', '=== Task Finished ===']) {
      assert.match(o.log, new RegExp(`^${ts} ${line}\\r?$`, 'm'), line)
    }
    assert.match(o.log, /^hello world\r$/m, 'TTY output, CRLF line ends')
    assert.match(o.log, new RegExp(`^${ts} Successful task run with exit code: 0 completed in \\d+\\.\\d{3} seconds\\n$`, 'm'))
    assert.equal(fake.artifacts(o.taskId).get('public/logs/live.log')!.storageType, 'link')
  })

  it('fails a task whose container exits 1', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'exit 1'], maxRunTime: 60 })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /Unsuccessful task run with exit code: 1 completed in/)
  })

  it('gives the container the payload env and docker-worker’s variables', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'env | sort'], env: { FOO: 'bar', TASK_ID: 'cannot override' }, maxRunTime: 60 }, { config: { instanceType: 'm5.large' } })
    assert.equal(o.state, 'completed')
    for (const line of [`TASK_ID=${o.taskId}`, 'RUN_ID=0', 'FOO=bar', 'TASKCLUSTER_WORKER_POOL=test-provisioner/test-worker-type', 'TASKCLUSTER_WORKER_TYPE=test-worker-type', 'TASKCLUSTER_WORKER_GROUP=test-worker-group', 'TASKCLUSTER_INSTANCE_TYPE=m5.large', `TASKCLUSTER_ROOT_URL=${fake.rootUrl}`]) {
      assert.match(o.log, new RegExp(`^${line.replace(/[.]/g, '\\.')}\\r$`, 'm'), line)
    }
  })

  it('kills the container when maxRunTime passes, fails the task, uploads no artifact but the logs', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo x > /a.txt; sleep 60'], maxRunTime: 1, artifacts: { 'public/a.txt': { type: 'file', path: '/a.txt' } } })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /\n\[taskcluster:error\] Task timeout after 1 seconds\. Force killing container\.\n/)
    assert.match(o.log, /Unsuccessful task run with exit code: -1 completed in/)
    assert.deepEqual([...fake.artifacts(o.taskId).keys()].sort(), ['public/logs/live.log', 'public/logs/live_backing.log'])
  })

  it('uploads file and directory artifacts with the right bytes and content types; a missing one is an error artifact and the task still completes', async () => {
    const o = await submitAndRun(fake, {
      image: BUSYBOX_IMAGE,
      command: ['sh', '-c', 'mkdir -p /out/sub && printf hello > /out/a.txt && printf "{}" > /out/sub/b.json && printf zz > /out/c.tar.gz'],
      maxRunTime: 60,
      artifacts: {
        'public/a.txt': { type: 'file', path: '/out/a.txt' },
        'public/out/': { type: 'directory', path: '/out' },
        'public/missing.txt': { type: 'file', path: '/nope.txt' },
        'public/wrong': { type: 'file', path: '/out/sub' },
      },
    })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    const a = fake.artifacts(o.taskId)
    assert.equal(a.get('public/a.txt')!.content!.toString(), 'hello')
    assert.equal(a.get('public/a.txt')!.contentType, 'text/plain')
    assert.equal(a.get('public/a.txt')!.contentEncoding, 'gzip')
    assert.equal(a.get('public/out/sub/b.json')!.content!.toString(), '{}')
    assert.equal(a.get('public/out/sub/b.json')!.contentType, 'application/json')
    assert.equal(a.get('public/out/c.tar.gz')!.contentEncoding, 'identity')
    assert.equal(a.get('public/missing.txt')!.storageType, 'error')
    assert.equal(a.get('public/missing.txt')!.reason, 'file-missing-on-worker')
    assert.match(o.log, /Artifact "public\/missing\.txt" not found at "\/nope\.txt"/)
    assert.equal(a.get('public/wrong')!.reason, 'invalid-resource-on-worker')
    assert.match(o.log, /\[taskcluster:error\] Error uploading "public\/wrong"\. Expected artifact to be a "file" but was "directory"/)
  })

  it('fails the task with docker-worker’s message when the image cannot be had', async () => {
    const o = await submitAndRun(fake, { image: '127.0.0.1:1/no/such-image:latest', command: ['true'], maxRunTime: 60 })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /\n\[taskcluster:error\] Pulling docker image has failed\.\n/)
  })

  it('resolves intermittent-task for an exit code in onExitStatus.retry', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'exit 5'], maxRunTime: 60, onExitStatus: { retry: [5] } })
    assert.deepEqual([o.state, o.reason], ['exception', 'intermittent-task'])
  })

  it('refuses what it cannot run yet by name, as malformed-payload', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, cache: { c: '/c' }, capabilities: { privileged: true }, features: { taskclusterProxy: true } })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'])
    assert.match(o.log, /\[taskcluster:error\] cache is not supported by this version of megalodon yet/)
    assert.match(o.log, /capabilities\.privileged is not supported/)
    assert.match(o.log, /features\.taskclusterProxy is not supported/)
  })

  it('a cancelled task (409 on reclaim) has its container removed and reports nothing', async () => {
    fake.claimTimeoutSecs = 2
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'sleep 60'], maxRunTime: 120 } })
    const worker = runWorker(fake, { numberOfTasksToRun: 1 })
    await until(async () => (await taskContainers(docker)) === 1)
    const before = fake.requests.length
    await fake.cancelTask(taskId)
    assert.equal((await worker).exitCode, 0)
    assert.deepEqual(fake.requests.slice(before).filter((r) => r.params[0] === taskId && /^report|createArtifact/.test(r.method)), [])
  })
})

// docker-worker payloads end to end: the fake Queue and a real Docker engine.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { gzipSync, zstdCompressSync } from 'node:zlib'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled, imageInLocalRegistry } from '../helpers/docker.js'
import { backingLog, submitAndRun, until } from '../helpers/tasks.js'
import { runWorker, TEST_WORKER_ID } from '../helpers/worker.js'
import type Docker from 'dockerode'

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** Whether this host's engine can start a privileged container at all (sandboxes often cannot). */
function engineRunsPrivileged(): boolean {
  try {
    execFileSync('docker', ['run', '--rm', '--privileged', BUSYBOX_IMAGE, 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** This test process's task containers (other processes on the engine run their own workers). */
async function taskContainers(docker: Docker): Promise<number> {
  return (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`megalodon.worker=test-worker-group/${TEST_WORKER_ID}`] }) })).length
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
    for (const line of [`Task ID: ${o.taskId}`, `Worker ID: ${TEST_WORKER_ID}`, 'Worker Group: test-worker-group', 'Worker Pool: test-provisioner/test-worker-type', 'Hostname: \\S+', '=== Task Starting ===', '=== Task Finished ===']) {
      assert.match(o.log, new RegExp(`^${ts} ${line}\\r?$`, 'm'), line)
    }
    assert.match(o.log, /^hello world\r$/m, 'TTY output, CRLF line ends')
    assert.match(o.log, new RegExp(`^${ts} Successful task run with exit code: 0 completed in \\d+(\\.\\d{1,3})? seconds\\n$`, 'm'))
    assert.equal(fake.artifacts(o.taskId).get('public/logs/live.log')!.storageType, 'link')
  })

  it('runs only docker-worker payloads on a worker with disableNativePayloads: one without `image` fails docker-worker’s schema, in its words (src/task.js:797-808)', async () => {
    const config = { disableNativePayloads: true }
    const docker = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60 }, { config })
    assert.deepEqual([docker.state, docker.reason], ['completed', 'completed'], docker.log)
    const native = await submitAndRun(fake, { command: [['echo', 'SHOULD-NOT-RUN']], maxRunTime: 60 }, { config })
    assert.deepEqual([native.state, native.reason], ['exception', 'malformed-payload'])
    assert.ok(native.log.includes('[taskcluster:error] `task.payload` format is invalid json schema errors:\n'), native.log)
    assert.ok(native.log.includes("  * data should have required property 'image'\\n  * data/command/0 should be string"), native.log)
    assert.match(native.log, /Worker Node Type: /, 'docker-worker’s header')
    assert.doesNotMatch(native.log, /^SHOULD-NOT-RUN$/m)
  })

  it('uploads no log at all with localLiveLog: false (src/features/local_live_log.js:42-43; features_test.js "disabled feature defaults")', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, features: { localLiveLog: false } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'])
    assert.deepEqual([...fake.artifacts(o.taskId, 0).keys()], [])
  })

  it('uploads no log at all on a worker with enableLiveLog false, unless the payload turns localLiveLog on (which fails: src/task.js:69-80)', async () => {
    const config = { enableLiveLog: false }
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60 }, { config })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'])
    assert.deepEqual([...fake.artifacts(o.taskId, 0).keys()], [])
    const asked = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, features: { localLiveLog: true } }, { config })
    assert.equal(asked.state, 'failed')
    assert.match(asked.log, /Error: localLiveLog is not enabled on this worker/)
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

  it('gives the container the text `undefined` for host values the worker lacks, and instance type `standalone`, as docker-worker did (src/task.js:40-48,364-368, config.yml:66)', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'env | sort'], maxRunTime: 60 }, { config: { instanceType: '', publicIP: '', workerLocation: '' } })
    assert.equal(o.state, 'completed', o.log)
    for (const line of ['TASKCLUSTER_INSTANCE_TYPE=standalone', 'TASKCLUSTER_PUBLIC_IP=undefined', 'TASKCLUSTER_WORKER_LOCATION=undefined']) assert.match(o.log, new RegExp(`^${line}\\r$`, 'm'), line)
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
      command: ['sh', '-c', 'mkdir -p /out/sub && printf hello > /out/a.txt && printf "{}" > /out/sub/b.json && printf zz > /out/c.tar.gz && printf 1 > /out/x.js'],
      maxRunTime: 60,
      artifacts: {
        'public/a.txt': { type: 'file', path: '/out/a.txt' },
        // type and encoding from the name in the container, with mime 2's table (src/features/artifacts.js:136-146)
        'public/noext': { type: 'file', path: '/out/a.txt' },
        'public/script': { type: 'file', path: '/out/x.js' },
        'public/packed': { type: 'file', path: '/out/c.tar.gz' },
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
    // a key ending in `/` keeps it: trimEnd('/') trims whitespace only (src/features/artifacts.js:82-85)
    assert.equal(a.get('public/out//sub/b.json')!.content!.toString(), '{}')
    assert.equal(a.get('public/out//sub/b.json')!.contentType, 'application/json')
    assert.equal(a.get('public/out//c.tar.gz')!.contentEncoding, 'identity')
    assert.deepEqual([a.get('public/noext')!.contentType, a.get('public/noext')!.contentEncoding], ['text/plain', 'gzip'])
    assert.equal(a.get('public/script')!.contentType, 'application/javascript')
    assert.equal(a.get('public/packed')!.contentEncoding, 'identity')
    assert.equal(a.get('public/missing.txt')!.storageType, 'error')
    assert.equal(a.get('public/missing.txt')!.reason, 'file-missing-on-worker')
    assert.match(o.log, /Artifact "public\/missing\.txt" not found at "\/nope\.txt"/)
    assert.equal(a.get('public/wrong')!.reason, 'invalid-resource-on-worker')
    assert.match(o.log, /\[taskcluster:error\] Error uploading "public\/wrong"\. Expected artifact to be a "file" but was "directory"/)
  })

  it('pulls an image by name from a registry (the local one) when the engine lacks it', async () => {
    const image = imageInLocalRegistry(`pull-${Date.now()}`)
    const o = await submitAndRun(fake, { image, command: ['sh', '-c', 'echo pulled and ran'], maxRunTime: 60 })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    // dockerode-process 0.7.0 utils.js: id-less events verbatim, no line of the worker's own
    assert.match(o.log, new RegExp(`^Status: Downloaded newer image for ${image.replace(/[.]/g, '\\.')}\\r$`, 'm'))
    assert.doesNotMatch(o.log, /Pulling image/)
    assert.match(o.log, /^pulled and ran\r$/m)
    await docker.getImage(image).inspect() // now in the engine
  })

  it('loads an image from a task artifact (.tar.zst) and from the Index', async () => {
    const tar = await streamToBuffer(await docker.getImage(BUSYBOX_IMAGE).get())
    const producer = await fake.seedArtifact('public/image.tar.zst', zstdCompressSync(tar))
    fake.index.set('project.images.busybox.latest', producer)
    const fromTask = await submitAndRun(fake, { image: { type: 'task-image', taskId: producer, path: 'public/image.tar.zst' }, command: ['sh', '-c', 'echo from a task image'], maxRunTime: 60 })
    assert.deepEqual([fromTask.state, fromTask.reason], ['completed', 'completed'], fromTask.log)
    // src/util/artifact_download.js:32-34, src/docker/artifact_image.js:218-221
    // src/util/artifact_download.js:32-34,87-91, src/docker/artifact_image.js:126,165,218-221: these
    // lines in this order, before anything else the image step writes
    const T = String.raw`\[taskcluster \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z\] `
    assert.match(fromTask.log, new RegExp(`\r\n${T}Downloading artifact "public/image\\.tar\\.zst" from task ID: ${producer}\\.\n${T}Downloaded artifact successfully\\.\n${T}Downloaded \\d+\\.\\d{3} mb over the wire\n${T}Decompressing downloaded image\n${T}Loading docker image from downloaded archive\\.\n${T}Image 'public/image\\.tar\\.zst' from task '${producer}' loaded\\. {2}Using image ID sha256:[0-9a-f]{64}\\.\n${T}=== Task Starting ===`))
    assert.match(fromTask.log, /^from a task image\r$/m)
    const fromIndex = await submitAndRun(fake, { image: { type: 'indexed-image', namespace: 'project.images.busybox.latest', path: 'public/image.tar.zst' }, command: ['true'], maxRunTime: 60 })
    assert.equal(fromIndex.state, 'completed', fromIndex.log)
    // docker-worker wrote nothing about the index lookup itself (src/docker/indexed_image.js)
    assert.match(fromIndex.log, new RegExp(`from task '${producer}' loaded\\.`))
  })

  it('writes a Download Progress line every 5 s of a slow image download, of the bytes over the wire (src/util/artifact_download.js:48-68,87-91)', async () => {
    const tar = await streamToBuffer(await docker.getImage(BUSYBOX_IMAGE).get())
    // stored gzip-encoded: the progress counts the encoded bytes, the image is what they decode to
    const encoded = gzipSync(tar)
    const producer = await fake.seedArtifact('public/slow-image.tar', encoded)
    fake.state.get(producer).artifacts[0]!.get('public/slow-image.tar')!.contentEncoding = 'gzip'
    fake.downloadPieceDelayMs = 700 // ten pieces: about 6.3 s
    const o = await submitAndRun(fake, { image: { type: 'task-image', taskId: producer, path: 'public/slow-image.tar' }, command: ['true'], maxRunTime: 60 })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    const percents = [...o.log.matchAll(/^\[taskcluster \S+ \S+\] Download Progress: (\d+\.\d\d)%$/gm)].map((m) => Number(m[1]))
    assert.ok(percents.length >= 1, o.log)
    assert.ok(percents.every((p) => p > 0 && p < 100), percents.join(' '))
    assert.ok(o.log.includes(`Downloaded ${(encoded.length / 1024 / 1024).toFixed(3)} mb over the wire\n`), o.log)
  })

  it('decides the image format by extension after the download: image.zst loads, image.tar.gz fails (src/docker/artifact_image.js:124-140)', async () => {
    const tar = await streamToBuffer(await docker.getImage(BUSYBOX_IMAGE).get())
    const zst = await fake.seedArtifact('public/image.zst', zstdCompressSync(tar))
    const ok = await submitAndRun(fake, { image: { type: 'task-image', taskId: zst, path: 'public/image.zst' }, command: ['true'], maxRunTime: 60 })
    assert.equal(ok.state, 'completed', ok.log)
    const gz = await fake.seedArtifact('public/image.tar.gz', tar)
    const bad = await submitAndRun(fake, { image: { type: 'task-image', taskId: gz, path: 'public/image.tar.gz' }, command: ['true'], maxRunTime: 60 }, { config: { dockerConfig: { delayFactor: 5 } } })
    assert.deepEqual([bad.state, bad.reason], ['failed', 'failed'])
    assert.match(bad.log, /Downloaded artifact successfully\./)
    assert.ok(bad.log.includes('\n[taskcluster:error] Error: Error loading docker image. Unsupported image file format. Expected tarball with extension: .tar.zst, .tar.lz4 or .tar\n'), bad.log)
  })

  it('gives up on a missing image artifact at once, in docker-worker\'s words (src/util/artifact_download.js:72-76,94-98)', async () => {
    const o = await submitAndRun(fake, { image: { type: 'task-image', taskId: 'AAAAAAAAQAAAAAAAAAAAAA', path: 'public/image.tar' }, command: ['true'], maxRunTime: 60 })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.ok(o.log.includes('\n[taskcluster:error] Error: Error loading docker image. Could not download artifact "public/image.tar from task "AAAAAAAAQAAAAAAAAAAAAA" after 1 attempt(s). Error: Not Found\n'), o.log)
    assert.doesNotMatch(o.log, /Next Attempt in/)
  })

  it('says which namespace the Index did not know (src/docker/indexed_image.js:56-65)', async () => {
    const o = await submitAndRun(fake, { image: { type: 'indexed-image', namespace: 'project.images.nowhere', path: 'public/image.tar' }, command: ['true'], maxRunTime: 60 })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /\[taskcluster:error\] Error: Could not find a task associated with "project\.images\.nowhere" namespace\. \S/)
  })

  it('loads a .tar.lz4 image artifact', async () => {
    const tar = await streamToBuffer(await docker.getImage(BUSYBOX_IMAGE).get())
    const producer = await fake.seedArtifact('public/image.tar.lz4', execFileSync('lz4', ['-c'], { input: tar, maxBuffer: 1 << 30 }))
    const o = await submitAndRun(fake, { image: { type: 'task-image', taskId: producer, path: 'public/image.tar.lz4' }, command: ['sh', '-c', 'echo lz4 image'], maxRunTime: 60 })
    assert.equal(o.state, 'completed', o.log)
    assert.match(o.log, /^lz4 image\r$/m)
  })

  it('reuses an image loaded from an artifact for the next task without downloading again', async () => {
    const tar = await streamToBuffer(await docker.getImage(BUSYBOX_IMAGE).get())
    const producer = await fake.seedArtifact('public/image.tar', tar)
    const image = { type: 'task-image', taskId: producer, path: 'public/image.tar' }
    const ids = [slugid(), slugid()]
    for (const id of ids) await fake.createTask(id, { payload: { image, command: ['true'], maxRunTime: 60 } })
    await runWorker(fake, { numberOfTasksToRun: 2 })
    const downloads = fake.requests.filter((r) => r.method === 's3Get' && r.params[0] === producer)
    assert.equal(downloads.length, 1, 'downloaded once')
    assert.match(backingLog(fake, ids[1]!), /Image '\S+' from task '\S+' loaded\. {2}Using image ID sha256:/)
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

  it('runs a task with a `volume` artifact and makes it an error artifact (src/features/artifacts.js:94-117)', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, artifacts: { 'public/v': { type: 'volume', path: '/tmp' } } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.equal(fake.artifacts(o.taskId).get('public/v')!.reason, 'invalid-resource-on-worker')
    assert.match(o.log, /\[taskcluster:error\] Error uploading "public\/v"\. Expected artifact to be a "volume" but was "directory"/)
  })

  it('keeps a cache for the next task, and never gives one instance to two tasks at once', async () => {
    const [first, second, third] = [slugid(), slugid(), slugid()]
    const writeThenCheck = 'echo $TASK_ID > /cache/owner; sleep 1; [ "$(cat /cache/owner)" = "$TASK_ID" ]'
    const scopes = ['docker-worker:cache:shared-*']
    const payload = (command: string) => ({ image: BUSYBOX_IMAGE, command: ['sh', '-c', command], maxRunTime: 60, cache: { 'shared-cache': '/cache' } })
    const worker = runWorker(fake, { idleTimeoutSecs: 3, capacity: 2 })
    await fake.createTask(first, { payload: payload(writeThenCheck), scopes })
    await fake.createTask(second, { payload: payload(writeThenCheck), scopes })
    for (const id of [first, second]) assert.equal((await fake.waitForResolution(id)).state, 'completed', 'each task had its own instance while both ran')
    await fake.createTask(third, { payload: payload('echo owner=$(cat /cache/owner)'), scopes })
    await fake.waitForResolution(third)
    await worker
    const log = backingLog(fake, third)
    assert.match(log, new RegExp(`^owner=(${first}|${second})\\r$`, 'm'), 'the third task found what an earlier one left')
    assert.match(log, /using cache "shared-cache" -> \S+/)
  })

  // docker-worker asked purge-cache after a claimWork that returned tasks, and only once it held
  // a cache (src/task_listener.js:126-131, src/volume_cache.js:271-276); a cache made before the
  // request is destroyed before the next task can mount it (src/volume_cache.js:90-118)
  it('asks the purge-cache service after a claim once it holds a cache, and destroys a cache it was asked to purge', async () => {
    const scopes = ['docker-worker:cache:to-purge']
    const cached = (command: string) => ({ image: BUSYBOX_IMAGE, command: ['sh', '-c', command], maxRunTime: 60, cache: { 'to-purge': '/c' } })
    const worker = runWorker(fake, { numberOfTasksToRun: 3 })
    const asked: number[] = []
    const logs: string[] = []
    for (const [i, payload] of [{ image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60 }, cached('echo old > /c/state'), cached('echo "files: $(ls /c | wc -l)"')].entries()) {
      if (i === 2) await fake.purgeCache('test-provisioner/test-worker-type', 'to-purge')
      const taskId = slugid()
      await fake.createTask(taskId, { payload, scopes })
      assert.equal((await fake.waitForResolution(taskId)).state, 'completed', backingLog(fake, taskId))
      asked.push(fake.requests.filter((r) => r.method === 'purgeRequests').length)
      logs.push(backingLog(fake, taskId))
    }
    await worker
    assert.deepEqual(asked, [0, 0, 1], 'purgeRequests calls after each task')
    assert.match(logs[2]!, /^files: 0\r?$/m, 'the purged cache was not mounted again')
  })

  it('fails a task whose cache is not covered by its scopes (docker-worker: failed, not exception)', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, cache: { 'secret-cache': '/c' } })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /\[taskcluster:error\] Docker configuration could not be created\. {2}This may indicate an authentication error/)
    assert.match(o.log, /Insufficient scopes to attach cache volumes/)
  })

  it('runs privileged only with the scope and a worker that allows it', async () => {
    const payload = { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'mount -t tmpfs none /mnt && echo mounted'], maxRunTime: 60, capabilities: { privileged: true } }
    const noScope = await submitAndRun(fake, payload, { config: { d2gConfig: { allowPrivileged: true } } })
    assert.deepEqual([noScope.state, noScope.reason], ['failed', 'failed'])
    assert.match(noScope.log, /Insufficient scopes to run task in privileged mode/)
    const notAllowed = await submitAndRun(fake, payload, { task: { scopes: ['docker-worker:capability:privileged'] }, config: { d2gConfig: { allowPrivileged: false } } })
    assert.equal(notAllowed.state, 'failed')
    assert.match(notAllowed.log, /Worker must be enabled to allow running of privileged tasks/)
    // allowed by default, as generic-worker's d2gConfig (gwconfig/config_linux.go:30)
    const allowed = await submitAndRun(fake, payload, { task: { scopes: ['docker-worker:capability:privileged'] } })
    if (engineRunsPrivileged()) {
      assert.equal(allowed.state, 'completed', allowed.log)
      assert.match(allowed.log, /^mounted\r$/m)
    } else {
      // This sandbox's engine cannot apply the capabilities of a privileged container: the
      // request reached it, and the task fails as docker-worker failed a container that would not start.
      assert.equal(allowed.state, 'failed')
      assert.match(allowed.log, /\[taskcluster:error\] Failure to properly start execution environment\.\n\n\[taskcluster:error\] .*caps/)
    }
  })

  it('attaches devices only with the scope and the worker’s consent (hostSharedMemory, kvm)', async () => {
    const marker = `megalodon-shm-${slugid()}`
    const payload = { image: BUSYBOX_IMAGE, command: ['sh', '-c', `touch /dev/shm/${marker} && ls /dev/kvm`], maxRunTime: 60, capabilities: { devices: { hostSharedMemory: true, kvm: true } } }
    const scopes = ['docker-worker:capability:device:hostSharedMemory', 'docker-worker:capability:device:kvm']
    const noScope = await submitAndRun(fake, payload, { config: { d2gConfig: { allowHostSharedMemory: true, allowKVM: true } } })
    assert.deepEqual([noScope.state, noScope.reason], ['failed', 'failed'])
    assert.match(noScope.log, /Insufficient scopes to attach devices/)
    // turned off in the config file; the other switches keep their defaults (merged key by key)
    const notAllowed = await submitAndRun(fake, payload, { task: { scopes }, config: { d2gConfig: { allowHostSharedMemory: false } } })
    assert.equal(notAllowed.state, 'failed')
    assert.match(notAllowed.log, /Device hostSharedMemory is not enabled on this worker/)
    // both on by default, as generic-worker's d2gConfig (gwconfig/config_linux.go:25,27) and docker-worker's config.yml:3-13
    const allowed = await submitAndRun(fake, payload, { task: { scopes } })
    if (existsSync('/dev/kvm')) {
      assert.equal(allowed.state, 'completed', allowed.log)
      assert.ok(existsSync(`/dev/shm/${marker}`), 'the container wrote into the host’s /dev/shm')
      rmSync(`/dev/shm/${marker}`)
    } else {
      assert.equal(allowed.state, 'failed')
      assert.match(allowed.log, /Device kvm is not available on this worker/)
    }
  })

  // docker-worker src/features/allow_ptrace.js:16-23 (no pool-suffixed scope), its error wrapped by
  // src/states.js:50-58 and src/task.js:786-791, before the schema check and the image
  it('adds CAP_SYS_PTRACE for allowPtrace only with its scope', async () => {
    const payload = { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'grep CapEff /proc/self/status'], maxRunTime: 60, features: { allowPtrace: true } }
    const refused = await submitAndRun(fake, payload, { task: { scopes: ['docker-worker:feature:allowPtrace:test-provisioner/test-worker-type'] } })
    assert.deepEqual([refused.state, refused.reason], ['failed', 'failed'])
    assert.ok(refused.log.includes("\r\n\n[taskcluster:error] Task was aborted because states could not be created successfully. Error: Error calling 'link' for allowPtrace : Error: Insufficient scopes to use 'allowPtrace' feature.  Try adding docker-worker:feature:allowPtrace to the .scopes array.\n"), refused.log)
    // refused before the schema: a payload the schema refuses still gets this refusal
    const invalid = await submitAndRun(fake, { ...payload, maxRunTime: 'x' })
    assert.deepEqual([invalid.state, invalid.reason], ['failed', 'failed'])
    const allowed = await submitAndRun(fake, payload, { task: { scopes: ['docker-worker:feature:allowPtrace'] } })
    assert.equal(allowed.state, 'completed', allowed.log)
    const capEff = BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(allowed.log)![1]}`)
    assert.equal((capEff >> 19n) & 1n, 1n, 'CAP_SYS_PTRACE (bit 19) is effective')
  })

  it('purges a cache after an exit code listed in onExitStatus.purgeCaches', async () => {
    const scopes = ['docker-worker:cache:purge-me']
    const worker = runWorker(fake, { idleTimeoutSecs: 3 })
    const first = slugid()
    await fake.createTask(first, { payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo stale > /c/file; exit 7'], maxRunTime: 60, cache: { 'purge-me': '/c' }, onExitStatus: { purgeCaches: [7] } }, scopes })
    await fake.waitForResolution(first)
    const second = slugid()
    await fake.createTask(second, { payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'ls /c | wc -l'], maxRunTime: 60, cache: { 'purge-me': '/c' } }, scopes })
    await fake.waitForResolution(second)
    await worker
    assert.equal(fake.status(first).runs[0]!.state, 'failed')
    assert.match(backingLog(fake, second), /^0\r$/m, 'the second task got a fresh, empty cache')
  })

  it('a restarted worker removes the containers it left, and only its own', async () => {
    const mine = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['sleep', '60'], Labels: { 'megalodon.task': 'x-0', 'megalodon.worker': `test-worker-group/${TEST_WORKER_ID}` } })
    const other = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['sleep', '60'], Labels: { 'megalodon.task': 'y-0', 'megalodon.worker': 'test-worker-group/another-worker' } })
    try {
      assert.equal((await runWorker(fake, { idleTimeoutSecs: 1 })).exitCode, 68)
      await assert.rejects(mine.inspect(), 'this worker’s leftover is gone')
      await other.inspect() // another worker's container is untouched
    } finally {
      await other.remove({ force: true })
    }
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

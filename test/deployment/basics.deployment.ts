// Against a real deployment (README: "Testing against a real deployment"): resolutions and
// artifacts, each task run by `megalodon run` as its own process and checked only through the
// Queue's public API and artifact downloads.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createTask, creatorQueue, download, listArtifacts, runTask, startWorker, status, tail, taskLog, waitForStatus, runResolved } from './harness.js'

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('deployment: resolutions', function () {
  it('completes a task, with its log and the live-log link', async () => {
    const o = await runTask({ payload: { command: [['sh', '-c', 'echo hello from megalodon']], maxRunTime: 60 } })
    assert.deepEqual([o.run.state, o.run.reasonResolved], ['completed', 'completed'], tail(o.worker.output))
    assert.equal(o.worker.code, 0)
    assert.match(await taskLog(o.taskId), /^hello from megalodon$/m)
    const listed = await listArtifacts(o.taskId)
    assert.equal(listed.get('public/logs/live_backing.log')?.storageType, 's3')
    assert.equal(listed.get('public/logs/live.log')?.storageType, 'link')
    // the live log, once the task is done, is the backing log: the same bytes through the link
    assert.equal((await download(o.taskId, 0, 'public/logs/live.log')).body.toString(), await taskLog(o.taskId))
  })

  it('resolves failed for a non-zero exit', async () => {
    const o = await runTask({ payload: { command: [['sh', '-c', 'echo about to fail; exit 3']], maxRunTime: 60 } })
    assert.deepEqual([o.run.state, o.run.reasonResolved], ['failed', 'failed'], tail(o.worker.output))
    assert.match(await taskLog(o.taskId), /Exit Code: 3/)
  })

  it('resolves exception/malformed-payload for a payload that fails the schema, with only the backing log', async () => {
    const o = await runTask({ payload: { command: 'not a list of commands', maxRunTime: 60 } })
    assert.deepEqual([o.run.state, o.run.reasonResolved], ['exception', 'malformed-payload'], tail(o.worker.output))
    const listed = await listArtifacts(o.taskId)
    assert.deepEqual([...listed.keys()], ['public/logs/live_backing.log'])
    assert.match(await taskLog(o.taskId), /command/)
  })

  it('resolves failed when maxRunTime runs out', async () => {
    const o = await runTask({ payload: { command: [['sh', '-c', 'echo sleeping; sleep 120']], maxRunTime: 3 } })
    assert.deepEqual([o.run.state, o.run.reasonResolved], ['failed', 'failed'], tail(o.worker.output))
    assert.match(await taskLog(o.taskId), /max run time exceeded/)
  })

  it('resolves exception/intermittent-task for an onExitStatus.retry code, and the Queue retries it in a new run', async () => {
    const taskId = await createTask({ payload: { command: [['sh', '-c', 'exit 7']], maxRunTime: 60, onExitStatus: { retry: [7] } }, retries: 1 })
    for (const runId of [0, 1]) {
      const worker = await startWorker()
      await worker.exited
      await waitForStatus(taskId, runResolved(runId), 30_000)
    }
    const s = await status(taskId)
    assert.deepEqual(
      s.runs.map((r) => [r.state, r.reasonCreated, r.reasonResolved]),
      [
        ['exception', 'scheduled', 'intermittent-task'],
        ['exception', 'task-retry', 'intermittent-task'],
      ],
    )
    assert.equal(s.state, 'exception', 'no retries left after the second run')
  })
})

describe('deployment: artifacts', function () {
  // small bytes the test knows exactly (through the environment), and 2 MB the task makes
  // itself (past the in-memory gzip bound) whose sha256 it prints
  const known = randomBytes(50_000)
  const script = [
    'mkdir -p out/dir/sub',
    'printf "%s" "$KNOWN_B64" | base64 -d > out/known.bin',
    'printf "plain text\\n" > out/notes.txt',
    'head -c 2000000 /dev/urandom > out/random.dat',
    'printf "\\037\\213not really gzip" > out/archive.tar.gz',
    'printf "in a dir" > out/dir/sub/x.txt',
    'cd out && sha256sum random.dat',
  ].join(' && ')
  const payload = {
    command: [['sh', '-c', script]],
    env: { KNOWN_B64: known.toString('base64') },
    maxRunTime: 120,
    artifacts: [
      { type: 'file', path: 'out/known.bin', name: 'public/known.bin' },
      { type: 'file', path: 'out/notes.txt', name: 'public/notes.txt' },
      { type: 'file', path: 'out/random.dat', name: 'public/random.dat' },
      { type: 'file', path: 'out/archive.tar.gz', name: 'public/archive.tar.gz' },
      { type: 'directory', path: 'out/dir', name: 'public/dir' },
      { type: 'file', path: 'out/notes.txt', name: 'private/notes.txt' },
    ],
  }

  for (const createObjectArtifacts of [false, true]) {
    const storageType = createObjectArtifacts ? 'object' : 's3'
    it(`uploads ${storageType} artifacts that download byte for byte`, async () => {
      const o = await runTask({ payload }, { createObjectArtifacts })
      assert.deepEqual([o.run.state, o.run.reasonResolved], ['completed', 'completed'], tail(o.worker.output))
      const log = await taskLog(o.taskId)
      const printed = /^([0-9a-f]{64}) {2}random\.dat$/m.exec(log)?.[1]
      assert.ok(printed, `the task printed the sha256 of random.dat:\n${tail(log)}`)
      const listed = await listArtifacts(o.taskId)
      for (const name of ['public/known.bin', 'public/notes.txt', 'public/random.dat', 'public/archive.tar.gz', 'public/dir/sub/x.txt', 'private/notes.txt']) {
        assert.equal(listed.get(name)?.storageType, storageType, name)
      }
      assert.equal(listed.get('public/notes.txt')!.contentType, 'text/plain; charset=utf-8')
      assert.equal(listed.get('public/archive.tar.gz')!.contentType, 'application/gzip')
      // the backing log goes the same way as the task's artifacts (generic-worker's createDataArtifact)
      assert.equal(listed.get('public/logs/live_backing.log')!.storageType, storageType)

      assert.deepEqual((await download(o.taskId, 0, 'public/known.bin', null)).body, known)
      assert.equal((await download(o.taskId, 0, 'public/notes.txt', null)).body.toString(), 'plain text\n')
      const random = (await download(o.taskId, 0, 'public/random.dat', null)).body
      assert.equal(random.length, 2_000_000)
      assert.equal(sha256(random), printed)
      assert.deepEqual((await download(o.taskId, 0, 'public/archive.tar.gz', null)).body, Buffer.from('\x1f\x8bnot really gzip', 'latin1'))
      assert.equal((await download(o.taskId, 0, 'public/dir/sub/x.txt', null)).body.toString(), 'in a dir')
    })
  }

  it('keeps private/ artifacts from anonymous readers and gives them to a client with the scope', async () => {
    const o = await runTask({ payload: { command: [['sh', '-c', 'echo secret > s.txt']], maxRunTime: 60, artifacts: [{ type: 'file', path: 's.txt', name: 'private/s.txt' }] } })
    assert.deepEqual([o.run.state, o.run.reasonResolved], ['completed', 'completed'], tail(o.worker.output))
    assert.equal((await download(o.taskId, 0, 'private/s.txt')).body.toString(), 'secret\n')
    await assert.rejects(download(o.taskId, 0, 'private/s.txt', null), (err: Error & { statusCode?: number }) => err.statusCode === 403)
  })

  it('uploads error artifacts for missing paths and fails the task (generic-worker)', async () => {
    const o = await runTask({
      payload: {
        command: [['sh', '-c', 'mkdir d && touch f']],
        maxRunTime: 60,
        artifacts: [
          { type: 'file', path: 'missing.txt', name: 'public/missing.txt' },
          { type: 'directory', path: 'missing-dir', name: 'public/missing-dir' },
          { type: 'file', path: 'd', name: 'public/d' },
          { type: 'file', path: 'missing-optional.txt', name: 'public/optional.txt', optional: true },
        ],
      },
    })
    assert.deepEqual([o.run.state, o.run.reasonResolved], ['failed', 'failed'], tail(o.worker.output))
    // a missing optional artifact is still an error artifact; only its failure is ignored
    // (generic-worker artifact_feature.go:113-130, artifacts_test.go:713-763)
    const listed = await listArtifacts(o.taskId)
    assert.equal(listed.has('public/optional.txt'), true)
    const queue = creatorQueue()
    assert.equal((await queue.artifact(o.taskId, 0, 'public/optional.txt')).storageType, 'error')
    const missing = await queue.artifact(o.taskId, 0, 'public/missing.txt')
    assert.equal(missing.storageType, 'error')
    assert.equal(missing.reason, 'file-missing-on-worker')
    assert.match(String(missing.message), /^Could not read file '\/.*\/missing\.txt'$/)
    assert.equal((await queue.artifact(o.taskId, 0, 'public/missing-dir')).reason, 'file-missing-on-worker')
    assert.equal((await queue.artifact(o.taskId, 0, 'public/d')).reason, 'invalid-resource-on-worker')
    // a client downloading it gets the error artifact's reason
    await assert.rejects(download(o.taskId, 0, 'public/missing.txt', null), (err: Error & { reason?: string }) => err.reason === 'file-missing-on-worker')
  })

  it('resolves internal-error for an artifact name the Queue refuses (not ASCII), and uploads the rest', async () => {
    const o = await runTask({
      payload: {
        command: [['sh', '-c', 'echo ok > a.txt']],
        maxRunTime: 60,
        artifacts: [
          { type: 'file', path: 'a.txt', name: 'public/caf\u00e9.txt' },
          { type: 'file', path: 'a.txt', name: 'public/plain.txt' },
        ],
      },
    })
    assert.deepEqual([o.run.state, o.run.reasonResolved], ['exception', 'internal-error'], tail(o.worker.output))
    assert.equal((await download(o.taskId, 0, 'public/plain.txt', null)).body.toString(), 'ok\n')
    assert.match(await taskLog(o.taskId), /WORKER EXCEPTION due to response code 400/)
  })
})

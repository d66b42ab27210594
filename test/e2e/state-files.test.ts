// The files generic-worker keeps for operators' scripts, kept by `megalodon run`:
// $TMPDIR/worker-status.json while tasks run (workers/generic-worker/task_manager.go:125-145) and
// tasks-resolved-count.txt in the working directory (main.go:57, 360-383, 446-453).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { taskDirName } from '../../src/lib/task-dir.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { madeInTaskDir, until } from '../helpers/tasks.js'
import { spawnWorker } from '../helpers/worker.js'

describe('state files of `megalodon run`', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('keeps {"currentTaskIds"} in $TMPDIR/worker-status.json while a task runs, removes it after, and adds to tasks-resolved-count.txt', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'megalodon-status-'))
    const saved = process.env.TMPDIR
    process.env.TMPDIR = tmp
    let worker: Awaited<ReturnType<typeof spawnWorker>>
    try {
      worker = await spawnWorker(fake, { numberOfTasksToRun: 1 })
    } finally {
      if (saved === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = saved
    }
    const cwd = path.dirname(String(worker.config.tasksDir))
    // a previous run resolved 4 tasks; upstream reads the count at start and writes it at exit
    await writeFile(path.join(cwd, 'tasks-resolved-count.txt'), '4')
    const statusFile = path.join(tmp, 'worker-status.json')
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'touch started; while [ ! -f done ]; do sleep 0.1; done']], maxRunTime: 60 } })
    await until(() => madeInTaskDir(String(worker.config.tasksDir)))
    await until(() => existsSync(statusFile))
    // fileutil.WriteToFileAsJSON: two-space indent and a newline
    assert.equal(await readFile(statusFile, 'utf8'), `{\n  "currentTaskIds": [\n    "${taskId}"\n  ]\n}\n`)
    const taskDir = path.join(String(worker.config.tasksDir), taskDirName(taskId, 0))
    await writeFile(path.join(taskDir, 'done'), '')
    assert.equal(await worker.exited, 0, worker.stderr())
    assert.equal(existsSync(statusFile), false, 'removed once no task runs')
    assert.equal(await readFile(path.join(cwd, 'tasks-resolved-count.txt'), 'utf8'), '5')
    assert.equal(statSync(path.join(cwd, 'tasks-resolved-count.txt')).mode & 0o777, 0o600)
    // enableMetadata (default true, main.go:273): metadata_feature.go:68-80
    assert.equal(await readFile(path.join(cwd, 'generic-worker-metadata.json'), 'utf8'), `{\n  "lastTaskUrl": "${fake.rootUrl}/tasks/${taskId}/runs/0"\n}\n`)
  })

  it('with enableMetadata false, writes no generic-worker-metadata.json: every task is refused, Metadata being requested by all (metadata_feature.go:46-48, main.go:1196-1214)', async () => {
    const worker = await spawnWorker(fake, { numberOfTasksToRun: 1, enableMetadata: false })
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['true']], maxRunTime: 60 } })
    assert.equal(await worker.exited, 0, worker.stderr())
    assert.equal(fake.status(taskId).runs[0]!.reasonResolved, 'malformed-payload')
    const cwd = path.dirname(String(worker.config.tasksDir))
    assert.equal(existsSync(path.join(cwd, 'generic-worker-metadata.json')), false)
    assert.equal(await readFile(path.join(cwd, 'tasks-resolved-count.txt'), 'utf8'), '1')
  })

  it('writes generic-worker’s cache tables, directory-caches.json and file-caches.json, in its working directory (mounts_feature.go:215-245,360-361,677-679)', async () => {
    const worker = await spawnWorker(fake, { numberOfTasksToRun: 2 })
    const cwd = path.dirname(String(worker.config.tasksDir))
    const mounts = [
      { directory: 'cache', cacheName: 'build-cache' },
      { file: 'input.txt', content: { raw: 'hello <raw>' } },
    ]
    for (let i = 0; i < 2; i++) {
      const taskId = slugid()
      await fake.createTask(taskId, { payload: { command: [['true']], maxRunTime: 60, mounts }, scopes: ['generic-worker:cache:build-cache'] })
      await fake.waitForResolution(taskId)
      assert.equal(fake.status(taskId).runs[0]!.state, 'completed')
    }
    assert.equal(await worker.exited, 0, worker.stderr())
    const goTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?(Z|[+-]\d\d:\d\d)$/
    const dirText = await readFile(path.join(cwd, 'directory-caches.json'), 'utf8')
    assert.ok(dirText.endsWith('}\n'), 'WriteToFileAsJSON ends with a newline')
    assert.equal(statSync(path.join(cwd, 'directory-caches.json')).mode & 0o777, 0o600, 'SecureFiles')
    const dirs = JSON.parse(dirText) as Record<string, Array<Record<string, unknown>>>
    assert.deepEqual(Object.keys(dirs), ['build-cache'])
    const [entry] = dirs['build-cache']!
    assert.deepEqual(Object.keys(entry!), ['created', 'location', 'hits', 'key', 'sha256', 'in_use', 'last_used'])
    assert.equal(entry!.key, 'build-cache')
    assert.equal(entry!.hits, 2, 'made by the first task, reused by the second')
    assert.equal(entry!.in_use, false)
    assert.equal(entry!.sha256, '')
    assert.ok(existsSync(String(entry!.location)), 'the cache is where the table says')
    assert.match(String(entry!.created), goTime)
    assert.match(String(entry!.last_used), goTime)
    const files = JSON.parse(await readFile(path.join(cwd, 'file-caches.json'), 'utf8')) as Record<string, Record<string, unknown>>
    // RawContent.UniqueKey (mounts_feature.go:1401-1403); file caches never record a last use
    assert.deepEqual(Object.keys(files), ['Raw content: hello <raw>'])
    const file = files['Raw content: hello <raw>']!
    assert.equal(file.hits, 2)
    assert.equal(file.last_used, '0001-01-01T00:00:00Z')
    assert.equal(await readFile(String(file.location), 'utf8'), 'hello <raw>')
    assert.equal(file.sha256, createHash('sha256').update('hello <raw>').digest('hex'))
    assert.ok((await readFile(path.join(cwd, 'file-caches.json'), 'utf8')).includes('hello \\u003craw\\u003e'), 'Go’s HTML escaping')
  })
})


// docker-worker payloads through the real Queue (a real Docker engine), and megalodon replay
// and shadow reading tasks back from the deployment.
import assert from 'node:assert/strict'
import { readFile, mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { BUSYBOX_IMAGE, needsDocker } from '../helpers/docker.js'
import { deploymentEnv } from './deployment-env.js'
import { download, listArtifacts, megalodon, runTask, tail, taskLog } from './harness.js'

describe('deployment: docker payloads', function () {
  before(needsDocker)

  it('completes a docker task with its artifact and log, and fails one that exits non-zero', async () => {
    const o = await runTask({ payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo in a container; mkdir -p /out && echo made > /out/r.txt'], maxRunTime: 60, artifacts: { 'public/r.txt': { type: 'file', path: '/out/r.txt' } } } })
    assert.deepEqual([o.run.state, o.run.reasonResolved], ['completed', 'completed'], tail(o.worker.output))
    assert.match(await taskLog(o.taskId), /^in a container\r$/m)
    assert.equal((await download(o.taskId, 0, 'public/r.txt', null)).body.toString(), 'made\n')
    assert.equal((await listArtifacts(o.taskId)).get('public/r.txt')!.storageType, 's3')
    const failed = await runTask({ payload: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'exit 4'], maxRunTime: 60 } })
    assert.deepEqual([failed.run.state, failed.run.reasonResolved], ['failed', 'failed'], tail(failed.worker.output))
    assert.match(await taskLog(failed.taskId), /Unsuccessful task run with exit code: 4/)
  })
})

describe('deployment: replay and shadow', function () {
  it('replays a task from the deployment (matched), tells a changed output apart (differed), and shadows both', async () => {
    const same = await runTask({ payload: { command: [['sh', '-c', 'echo stable > out.txt']], maxRunTime: 60, artifacts: [{ type: 'file', path: 'out.txt', name: 'public/out.txt' }] } })
    const changing = await runTask({ payload: { command: [['sh', '-c', 'date +%s%N > out.txt']], maxRunTime: 60, artifacts: [{ type: 'file', path: 'out.txt', name: 'public/out.txt' }] } })
    for (const o of [same, changing]) assert.equal(o.run.state, 'completed', tail(o.worker.output))
    const rootUrl = deploymentEnv().rootUrl

    const matched = await megalodon(['replay', same.taskId, '--root-url', rootUrl])
    assert.equal(matched.code, 0, matched.stdout + matched.stderr)
    assert.match(matched.stdout, /Verdict: matched/)
    const differed = await megalodon(['replay', changing.taskId, '--root-url', rootUrl])
    assert.equal(differed.code, 1, differed.stdout + differed.stderr)
    assert.match(differed.stdout, /artifact public\/out\.txt: sha256/)

    const dir = await mkdtemp(path.join(os.tmpdir(), 'megalodon-deploy-shadow-'))
    const config = path.join(dir, 'shadow.json')
    await writeFile(config, JSON.stringify({ rootUrl, taskIds: [same.taskId, changing.taskId], concurrency: 1, output: path.join(dir, 'report'), worker: { tasksDir: path.join(dir, 'tasks') } }))
    const shadow = await megalodon(['shadow', '--config', config])
    assert.equal(shadow.code, 1, shadow.stdout + shadow.stderr)
    const report = await readFile(path.join(dir, 'report', 'report.json'), 'utf8')
    assert.ok(report.includes(same.taskId) && report.includes(changing.taskId), report.slice(0, 2000))
  })
})

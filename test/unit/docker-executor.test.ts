// The docker family's semantics on an in-memory engine, in milliseconds: output and exit code,
// a pull that fails (failed, as docker-worker), an engine that does not answer or goes away
// mid-task (exception/resource-unavailable), and what a lost engine or a crashed worker left.
import assert from 'node:assert/strict'
import { createDockerExecutor } from '../../executors/docker/executor.js'
import { WORKER_LABEL } from '../../executors/docker/container.js'
import type { TaskExecutor } from '../../src/contract/executor.js'
import { FakeDockerEngine } from '../helpers/fake-docker-engine.js'
import { directConfig, runDirect } from '../helpers/run-direct.js'

const IMAGE = 'megalodon-test/fake:latest'

describe('docker executor on an in-memory engine', () => {
  function setup(script?: ConstructorParameters<typeof FakeDockerEngine>[0]) {
    const engine = new FakeDockerEngine(script)
    engine.images_.add(IMAGE)
    return { engine, executors: [createDockerExecutor({ engine }) as TaskExecutor] }
  }

  it('streams the container output into the log, passes the exit code through and removes the container', async () => {
    const { engine, executors } = setup((spec) => ({ output: `hello from ${spec.command.join(' ')}\r\n`, exitCode: spec.command.includes('fail') ? 3 : 0 }))
    const ok = await runDirect(executors, { image: IMAGE, command: ['greet'], maxRunTime: 60 })
    assert.deepEqual(ok.resolution, { state: 'completed' })
    assert.match(ok.log, /hello from greet/)
    assert.match(ok.log, /Successful task run with exit code: 0 completed in/)
    const failed = await runDirect(executors, { image: IMAGE, command: ['fail'], maxRunTime: 60 })
    assert.deepEqual(failed.resolution, { state: 'failed' })
    assert.match(failed.log, /Unsuccessful task run with exit code: 3 completed in/)
    assert.equal(engine.containers_.size, 0)
  })

  it('fails the task when the image cannot be pulled (docker-worker resolved it failed)', async () => {
    const { engine, executors } = setup()
    const r = await runDirect(executors, { image: 'nowhere/none:1', command: ['true'], maxRunTime: 60 })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.match(r.log, /Pulling docker image has failed\./)
    assert.ok(engine.calls.filter((c) => c === 'images.pull').length >= 1)
    assert.equal(engine.calls.includes('containers.create'), false)
  })

  it('resolves exception/resource-unavailable when the engine does not answer, starting nothing', async () => {
    const { engine, executors } = setup()
    engine.alive = false
    const r = await runDirect(executors, { image: IMAGE, command: ['true'], maxRunTime: 60 })
    assert.deepEqual(r.resolution, { state: 'exception', reason: 'resource-unavailable' })
    assert.match(r.log, /The Docker engine does not answer/)
    assert.deepEqual(engine.calls, ['ping'])
  })

  it('resolves exception/resource-unavailable when the engine goes away mid-task, and removes the container once it is back', async () => {
    let dies = true
    const { engine, executors } = setup(() => (dies ? { output: 'working\n', engineDies: true } : { exitCode: 0 }))
    const lost = await runDirect(executors, { image: IMAGE, command: ['work'], maxRunTime: 60 })
    assert.deepEqual(lost.resolution, { state: 'exception', reason: 'resource-unavailable' })
    assert.match(lost.log, /The Docker engine stopped answering during the task/)
    assert.equal(engine.containers_.size, 1, 'the engine was away: the container is still there')
    engine.alive = true
    dies = false
    const next = await runDirect(executors, { image: IMAGE, command: ['true'], maxRunTime: 60 })
    assert.deepEqual(next.resolution, { state: 'completed' })
    assert.equal(engine.containers_.size, 0, 'the leftover went before the next task')
  })

  it('at start removes the containers and networks this worker left, never another worker’s', async () => {
    const { engine, executors } = setup()
    const config = await directConfig()
    const mine = `${config.workerGroup}/${config.workerId}`
    const spec = { image: IMAGE, command: [], env: {}, binds: [], privileged: false, devices: [], capAdd: [], extraHosts: [], shmSizeBytes: 0 }
    const left = await engine.containers.create({ ...spec, labels: { [WORKER_LABEL]: mine } })
    const other = await engine.containers.create({ ...spec, labels: { [WORKER_LABEL]: 'another/worker' } })
    await engine.networks.create('megalodon-left', { [WORKER_LABEL]: mine })
    const host = { config, log: () => undefined }
    await executors[0]!.startup!(host)
    await executors[0]!.startup!(host)
    assert.deepEqual([...engine.containers_.keys()], [other])
    assert.equal(engine.containers_.has(left), false)
    assert.equal(engine.networks_.size, 0)
  })
})

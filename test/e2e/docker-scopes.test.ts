// docker-worker checked a task's cache and device scopes against the task's scopes expanded by
// auth.expandScopes, asked with the worker's own credentials (docker-worker src/task.js:403-408,
// then buildVolumeBindings :95-121 and buildDeviceBindings :160-187); privileged mode and
// allowPtrace against the unexpanded scopes (src/task.js:140, src/features/allow_ptrace.js:18).
import assert from 'node:assert/strict'
import { FakeQueue, WORKER } from '../helpers/fake-queue/index.js'
import { BUSYBOX_IMAGE, dockerTestsEnabled } from '../helpers/docker.js'
import { submitAndRun } from '../helpers/tasks.js'

describe('docker payloads: scopes through auth.expandScopes (fake Queue, real engine)', function () {
  let fake: FakeQueue
  before(function () {
    if (!dockerTestsEnabled()) this.skip()
  })
  beforeEach(async () => {
    fake = await new FakeQueue().start()
  })
  afterEach(async () => fake?.stop())

  const cachePayload = { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo hi > /c/f'], maxRunTime: 60, cache: { 'role-cache': '/c' } }
  const expandCalls = () => fake.requests.filter((r) => r.method === 'expandScopes')

  it('mounts a cache whose scope only a role grants, asking Auth with the worker’s credentials', async () => {
    fake.auth.roles.set('project:cachers', ['docker-worker:cache:role-cache'])
    const o = await submitAndRun(fake, cachePayload, { task: { scopes: ['assume:project:cachers'] } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.deepEqual(expandCalls().map((r) => [r.clientId, r.status]), [[WORKER.clientId, 200]])
  })

  it('expands a role whose id ends in * with <..> (a repository role) for a cache', async () => {
    fake.auth.roles.set('repo:example.com/*', ['docker-worker:cache:<..>'])
    const o = await submitAndRun(fake, { ...cachePayload, cache: { 'proj-a': '/c' } }, { task: { scopes: ['assume:repo:example.com/proj-a'] } })
    assert.equal(o.state, 'completed', o.log)
  })

  it('still refuses the cache when the role does not grant it (docker-worker src/task.js:107-121)', async () => {
    fake.auth.roles.set('project:cachers', ['docker-worker:cache:another'])
    const o = await submitAndRun(fake, cachePayload, { task: { scopes: ['assume:project:cachers'] } })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /Insufficient scopes to attach cache volumes/)
  })

  it('grants a device through a role', async () => {
    fake.auth.roles.set('project:shm', ['docker-worker:capability:device:hostSharedMemory'])
    const payload = { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, capabilities: { devices: { hostSharedMemory: true } } }
    const o = await submitAndRun(fake, payload, { task: { scopes: ['assume:project:shm'] }, config: { d2gConfig: { allowHostSharedMemory: true } } })
    assert.equal(o.state, 'completed', o.log)
  })

  it('does not expand roles for allowPtrace, whose scope docker-worker read from task.scopes', async () => {
    fake.auth.roles.set('project:ptrace', ['docker-worker:feature:allowPtrace'])
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, features: { allowPtrace: true } }, { task: { scopes: ['assume:project:ptrace'] } })
    assert.equal(o.state, 'failed')
    assert.match(o.log, /Insufficient scopes to use 'allowPtrace' feature/)
  })

  it('does not ask Auth when no scope can assume a role', async () => {
    const o = await submitAndRun(fake, cachePayload, { task: { scopes: ['docker-worker:cache:role-cache'] } })
    assert.equal(o.state, 'completed', o.log)
    assert.equal(expandCalls().length, 0)
  })

  it('fails the task when Auth refuses to expand (docker-worker src/task.js:855-862)', async () => {
    fake.auth.roles.set('project:cachers', ['docker-worker:cache:role-cache'])
    fake.injectFault({ method: 'expandScopes', status: 403 })
    const o = await submitAndRun(fake, cachePayload, { task: { scopes: ['assume:project:cachers'] } })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.match(o.log, /Docker configuration could not be created\. {2}This may indicate an authentication error/)
  })
})

// docker-worker's refusals of host access, word for word, and the order it made its checks in
// (src/task.js:754-863): features' link hooks (allowPtrace), the schema, the image, then the
// container config: privileged mode, device scopes, cache scopes.
import assert from 'node:assert/strict'
import { createDockerExecutor } from '../../executors/docker/executor.js'
import type { TaskExecutor } from '../../src/contract/executor.js'
import { FakeDockerEngine } from '../helpers/fake-docker-engine.js'
import { runDirect } from '../helpers/run-direct.js'

const IMAGE = 'megalodon-test/fake:latest'
const POOL = 'test-provisioner/test-worker-type'
const CONFIG_FAILED = '[taskcluster:error] Docker configuration could not be created.  This may indicate an authentication error when validating scopes necessary for running the task. \n Error: '

function executors(): TaskExecutor[] {
  const engine = new FakeDockerEngine(() => ({ exitCode: 0 }))
  engine.images_.add(IMAGE)
  return [createDockerExecutor({ engine }) as TaskExecutor]
}

const base = { image: IMAGE, command: ['x'], maxRunTime: 60 }

describe('docker-worker refusals and their order', () => {
  it('privileged without its scope: src/task.js:140-147, framed by :857-862 (privileged_containers_test.js:49)', async () => {
    const r = await runDirect(executors(), { ...base, capabilities: { privileged: true } })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.ok(r.log.includes(`\n${CONFIG_FAILED}Insufficient scopes to run task in privileged mode. Try adding docker-worker:capability:privileged:${POOL} to the .scopes array\n`), r.log)
  })

  it('devices without their scopes: src/task.js:160-187, the expressions as JSON (docker-worker printed [object Object], fixed deliberately)', async () => {
    const payload = { ...base, capabilities: { devices: { kvm: true, hostSharedMemory: false } } }
    const r = await runDirect(executors(), payload, { task: { scopes: ['docker-worker:capability:device:hostSharedMemory'] }, config: { d2gConfig: { allowKVM: true, allowHostSharedMemory: true } } })
    assert.deepEqual(r.resolution, { state: 'failed' })
    const missing = `{"AnyOf":["docker-worker:capability:device:kvm","docker-worker:capability:device:kvm:${POOL}"]}`
    const expression = `{"AllOf":[${missing},{"AnyOf":["docker-worker:capability:device:hostSharedMemory","docker-worker:capability:device:hostSharedMemory:${POOL}"]}]}`
    const text = ['Insufficient scopes to attach devices to task container.', 'The task is missing the following scopes:', '', '```', missing, '```', 'This requested devices requires the task scopes to satisfy the following scope expression:', '', '```', expression, '```'].join('\n')
    assert.ok(r.log.includes(`\n${CONFIG_FAILED}${text}\n`), r.log)
    // device_link_test.js:154-156
    assert.ok(r.log.includes('Insufficient scopes to attach devices'))
  })

  it('caches without their scopes: src/task.js:95-120 (container_volume_caching_test.js "insufficient cache scope")', async () => {
    const r = await runDirect(executors(), { ...base, cache: { 'my-cache': '/c', other: '/o' } }, { task: { scopes: ['docker-worker:cache:other'] } })
    assert.deepEqual(r.resolution, { state: 'failed' })
    const missing = `{"AnyOf":["docker-worker:cache:my-cache","docker-worker:cache:my-cache:${POOL}"]}`
    const expression = `{"AllOf":[${missing},{"AnyOf":["docker-worker:cache:other","docker-worker:cache:other:${POOL}"]}]}`
    const text = ['Insufficient scopes to attach cache volumes.', 'The task is missing the following scopes:', '', '```', missing, '```', 'This requested devices requires the task scopes to satisfy the following scope expression:', '```', expression, '```'].join('\n')
    assert.ok(r.log.includes(`\n${CONFIG_FAILED}${text}\n`), r.log)
  })

  it('checks privileged before devices and devices before caches (src/task.js:370,420-432)', async () => {
    const all = { ...base, capabilities: { privileged: true, devices: { kvm: true } }, cache: { c: '/c' } }
    const first = await runDirect(executors(), all, { config: { d2gConfig: { allowKVM: true } } })
    assert.match(first.log, /Insufficient scopes to run task in privileged mode/)
    assert.doesNotMatch(first.log, /attach devices|attach cache/)
    const second = await runDirect(executors(), { ...all, capabilities: { devices: { kvm: true } } }, { config: { d2gConfig: { allowKVM: true } } })
    assert.match(second.log, /Insufficient scopes to attach devices/)
    assert.doesNotMatch(second.log, /attach cache/)
  })

  it('refuses a missing image before any scope (src/task.js:817-851 before :855)', async () => {
    const r = await runDirect(executors(), { ...base, image: 'megalodon-test/absent:1', capabilities: { privileged: true } })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.match(r.log, /Pulling docker image has failed\./)
    assert.doesNotMatch(r.log, /privileged/)
  })

  it('refuses allowPtrace without its scope before the schema (src/task.js:759-791 before :797)', async () => {
    const r = await runDirect(executors(), { ...base, maxRunTime: 'x', features: { allowPtrace: true } })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.match(r.log, /Error calling 'link' for allowPtrace/)
    assert.doesNotMatch(r.log, /json schema errors/)
  })

  it('has no maxRunTime ceiling: the schema asks an integer >= 1 (tools/d2g/schemas/docker-worker/v1/payload.yml:173-179)', async () => {
    const r = await runDirect(executors(), { ...base, maxRunTime: 86401 * 10 })
    assert.deepEqual(r.resolution, { state: 'completed' })
  })

  it('refuses a feature key the worker does not enable, whatever its value (src/task.js:69-73, features_test.js:7-33)', async () => {
    const r = await runDirect(executors(), { ...base, features: { taskclusterProxy: false } }, { config: { enableTaskclusterProxy: false } })
    assert.deepEqual(r.resolution, { state: 'failed' })
    assert.match(r.log, /Error: taskclusterProxy is not enabled on this worker/)
    const two = await runDirect(executors(), { ...base, features: { bulkLog: false, chainOfTrust: false } }, { config: { enableChainOfTrust: false } })
    assert.match(two.log, /Error: bulkLog,chainOfTrust are not enabled on this worker/)
  })
})

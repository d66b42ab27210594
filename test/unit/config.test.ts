// The worker configuration: generic-worker's keys, types, defaults and environment overrides.
import assert from 'node:assert/strict'
import path from 'node:path'
import { buildConfig, configFromEnv } from '../../src/config/config.js'
import { ConfigError } from '../../src/contract/errors.js'

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
  it('has generic-worker’s d2gConfig defaults on Linux, and merges a file’s d2gConfig over them key by key (gwconfig/config_linux.go:18-34, config.go:297-299)', function () {
    if (process.platform !== 'linux') this.skip()
    const defaults = buildConfig([{ workerType: 'wt' }]).d2gConfig
    for (const key of ['allowChainOfTrust', 'allowDisableSeccomp', 'allowHostSharedMemory', 'allowInteractive', 'allowKVM', 'allowLoopbackAudio', 'allowLoopbackVideo', 'allowPrivileged', 'allowPtrace', 'allowTaskclusterProxy', 'logTranslation']) assert.equal(defaults[key], true, key)
    assert.deepEqual([defaults.enableD2G, defaults.allowGPUs, defaults.gpus], [false, false, 'all'])
    const merged = buildConfig([{ workerType: 'wt', d2gConfig: { enableD2G: true, allowKVM: false } }]).d2gConfig
    assert.deepEqual([merged.enableD2G, merged.allowKVM, merged.allowPrivileged, merged.allowLoopbackVideo], [true, false, true, true])
  })

  it('refuses an unknown key by name', () => {
    assert.throws(() => buildConfig([{ workerType: 'wt', livelogSecret: 'x' }]), (e: Error) => e instanceof ConfigError && /"livelogSecret"/.test(e.message))
  })
  it('refuses a wrong type, naming the key (booleans must be booleans)', () => {
    assert.throws(() => buildConfig([{ cleanUpTaskDirs: 'true' }]), /cannot unmarshal string into config key "cleanUpTaskDirs" \(a boolean\)/)
    assert.throws(() => buildConfig([{ capacity: 0 }]), /capacity must be at least 1 \(got 0\)/)
  })
  it('splits workerPoolId', () => {
    const c = buildConfig([{ workerPoolId: 'proj/linux-large' }])
    assert.deepEqual([c.provisionerId, c.workerType], ['proj', 'linux-large'])
  })
  it('accepts generic-worker keys it does not act on yet, and remembers them', () => {
    const c = buildConfig([{ disableReboots: true, livelogExecutable: '/usr/local/bin/livelog' }])
    assert.deepEqual(c.notApplied, { disableReboots: true, livelogExecutable: '/usr/local/bin/livelog' })
  })
  it('`local` takes overrides from TASKCLUSTER_* and MEGALODON_* variables (megalodon’s own; `run` reads its file alone)', () => {
    const env = configFromEnv({ TASKCLUSTER_ROOT_URL: 'https://tc.example.com', MEGALODON_WORKER_GROUP: 'g1', MEGALODON_CAPACITY: '4', HOME: '/root' })
    assert.deepEqual(env, { rootURL: 'https://tc.example.com', workerGroup: 'g1', capacity: 4 })
    assert.equal(buildConfig([{ workerGroup: 'file' }, env]).workerGroup, 'g1')
  })
  it('requires credentials for `run`, and a valid publicIP', () => {
    assert.throws(() => buildConfig([{}], { required: ['clientId'] }), /Config setting "clientId" has not been defined/)
    assert.throws(() => buildConfig([{ publicIP: 'not-an-ip' }]), /publicIP/)
  })
})

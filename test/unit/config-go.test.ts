// The config as generic-worker reads it: Go encoding/json's key matching and unmarshal errors
// (exit 64), its checks (exit 73), its defaults per platform and engine, and the engine
// `megalodon run` picks when the config names none.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildConfig, loadWorkerConfig, readConfigFile, runDefaultEngine, runSettings, type RawConfig } from '../../src/config/config.js'
import { ConfigError, ConfigUnreadable } from '../../src/contract/errors.js'
import { exitCodeFor } from '../../src/worker/exit-codes.js'

const exitOf = (f: () => unknown): number | undefined => {
  try {
    f()
  } catch (err) {
    return exitCodeFor(err)
  }
  return undefined
}
const asRoot = process.getuid?.() === 0

describe('config: Go encoding/json key matching (gwconfig/config.go:282-296)', () => {
  it('matches names case-insensitively: upstream’s `instanceId` tag (config.go:50) and usage.go:325’s `workerTypeMetaData` load', () => {
    const c = buildConfig([{ instanceId: 'i-1', workerTypeMetaData: { a: 1 }, WORKERTYPE: 'wt', ſentryProject: 'x' }])
    assert.equal(c.instanceID, 'i-1')
    assert.deepEqual(c.workerTypeMetadata, { a: 1 })
    assert.equal(c.workerType, 'wt')
    assert.equal(c.sentryProject, 'x', 'ſ folds to s, as Go’s EqualFold has it')
  })

  it('two spellings of one key: the later in the file wins, as decoding into one field does', () => {
    assert.equal(buildConfig([{ instanceId: 'a', instanceID: 'b' }]).instanceID, 'b')
    assert.equal(buildConfig([{ instanceID: 'b', INSTANCEID: 'c' }]).instanceID, 'c')
  })

  it('null leaves a key at its default (a no-op for Go’s non-pointer fields)', () => {
    const c = buildConfig([{ capacity: null, workerGroup: null, enableLiveLog: null }])
    assert.deepEqual([c.capacity, c.workerGroup, c.enableLiveLog], [1, 'test-worker-group', true])
  })

  it('an unknown key, a wrong JSON type, a number its Go type cannot hold, a bad IP: unmarshal errors, exit 64 (main.go:178-179)', () => {
    const cases: RawConfig[] = [
      { livelogSecret: 'x' },
      { cleanUpTaskDirs: 'true' },
      { capacity: '2' },
      { capacity: 256 }, // uint8
      { capacity: -1 },
      { idleTimeoutSecs: 1.5 },
      { taskclusterProxyPort: 65536 }, // uint16
      { workerTypeMetadata: [] },
      { publicIP: 'not-an-ip' },
      { privateIP: '10.0.0.256' },
    ]
    for (const c of cases) assert.equal(exitOf(() => buildConfig([c])), 64, JSON.stringify(c))
    assert.throws(() => buildConfig([{ livelogSecret: 'x' }]), (e: Error) => e instanceof ConfigUnreadable && /json: unknown field "livelogSecret"/.test(e.message))
    assert.ok(buildConfig([{ publicIP: '2001:db8::1', privateIP: '' }]))
  })

  it('a file that is not JSON, or not an object, is exit 64 with upstream’s wording (config.go:292-296)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-config-'))
    for (const text of ['{"capacity": 1,', '[1]']) {
      const file = path.join(dir, 'generic-worker.config')
      writeFileSync(file, text)
      const err = await readConfigFile(file).catch((e: unknown) => e)
      assert.equal(exitCodeFor(err), 64)
      assert.match((err as Error).message, new RegExp(`^Error unmarshaling generic worker config file ${file} as JSON: `))
    }
  })
})

describe('config: what generic-worker checks after decoding (exit 73)', () => {
  const run = (layer: RawConfig) => buildConfig([{ rootURL: 'https://tc.example.com', clientId: 'c', accessToken: 't', workerId: 'w', workerType: 'wt', ed25519SigningKeyLocation: '/k', ...layer }], { required: runSettings(true) })

  it('an empty required setting: `Config setting "<name>" has not been defined` (config.go:121-144, 254-256)', () => {
    for (const key of ['cachesDir', 'downloadsDir', 'ed25519SigningKeyLocation', 'livelogExecutable', 'provisionerId', 'tasksDir', 'workerGroup', 'workerId']) {
      assert.throws(() => run({ [key]: '' }), (e: Error) => e instanceof ConfigError && exitCodeFor(e) === 73 && e.message === `Config setting "${key}" has not been defined`, key)
    }
    assert.throws(() => buildConfig([{}], { required: runSettings(true) }), /Config setting "accessToken" has not been defined/, 'the first in upstream’s order')
    assert.ok(run({ livelogExecutable: '/usr/local/bin/livelog' }), 'accepted keys with upstream defaults may be set or absent')
  })

  it('the chain of trust key location is required on every engine, insecure too (config.go:130, main.go:417: one Validate for every build)', () => {
    assert.throws(() => run({ engine: 'insecure', ed25519SigningKeyLocation: '' }), (e: Error) => exitCodeFor(e) === 73 && e.message === 'Config setting "ed25519SigningKeyLocation" has not been defined')
    assert.throws(() => buildConfig([{ rootURL: 'https://tc.example.com', clientId: 'c', accessToken: 't', workerId: 'w', workerType: 'wt', engine: 'insecure' }], { required: runSettings(true) }), /Config setting "ed25519SigningKeyLocation" has not been defined/)
    assert.ok(!runSettings(false).includes('clientId'), 'megalodon’s worker-manager registration brings the credentials')
  })

  it('port ranges per concurrent task must fit and not overlap (config.go:173-252); 0 (any free port) takes none', () => {
    assert.throws(() => run({ capacity: 3, livelogPortBase: 60000, taskclusterProxyPort: 60006 }), (e: Error) => exitCodeFor(e) === 73 && /port range overlap detected with capacity=3: livelogPortBase \[60000-60009\] overlaps with taskclusterProxyPort \[60006-60014\]; ensure base ports are spaced at least 10 apart/.test(e.message))
    assert.throws(() => run({ capacity: 2, taskclusterProxyPort: 65533 }), /port range for taskclusterProxyPort exceeds maximum port number with capacity=2/)
    assert.throws(() => run({ livelogPortBase: 80, taskclusterProxyPort: 81 }), /livelogPortBase \[80-81\] overlaps with taskclusterProxyPort \[81-81\]/, 'even at capacity 1')
    assert.ok(run({ capacity: 4, livelogPortBase: 0, taskclusterProxyPort: 0, interactivePort: 0 }))
  })

  it('multiuser: capacity > 1 needs headlessTasks (multiuser.go:29-34)', function () {
    if (!asRoot) this.skip()
    assert.throws(() => run({ engine: 'multiuser', capacity: 2, ed25519SigningKeyLocation: '/k', tasksDir: '/tmp/t' }), /capacity > 1 requires headlessTasks to be enabled in multiuser mode \(capacity=2, headlessTasks=false\)/)
    assert.ok(run({ engine: 'multiuser', capacity: 2, headlessTasks: true, ed25519SigningKeyLocation: '/k', tasksDir: '/tmp/t' }))
  })
})

describe('config: generic-worker’s defaults and the engine', () => {
  it('loopback audio and video are on by default on Linux (gwconfig/config_linux.go:36-38)', () => {
    const c = buildConfig([{}])
    assert.equal(c.enableLoopbackAudio, process.platform === 'linux')
    assert.equal(c.enableLoopbackVideo, process.platform === 'linux')
  })

  it('multiuser: enableRunTaskAsCurrentUser true (config_multiuser.go:11-14) and tasksDir /home on Linux (multiuser_linux.go:12-14); insecure: false and `tasks` (insecure.go:175-178)', function () {
    const insecure = buildConfig([{ engine: 'insecure' }])
    assert.equal(insecure.enableRunTaskAsCurrentUser, false)
    assert.equal(insecure.tasksDir, path.resolve('tasks'))
    if (!asRoot) this.skip()
    const multiuser = buildConfig([{ engine: 'multiuser' }])
    assert.equal(multiuser.enableRunTaskAsCurrentUser, true)
    assert.equal(multiuser.tasksDir, process.platform === 'linux' ? '/home' : path.resolve('tasks'))
    assert.equal(buildConfig([{ engine: 'multiuser', enableRunTaskAsCurrentUser: false, tasksDir: '/srv/t' }]).tasksDir, '/srv/t')
  })

  it('`run` with no engine is multiuser as root on Linux, never weaker than the generic-worker it replaces (lead’s decision); `local` stays insecure', function () {
    assert.equal(runDefaultEngine(), process.platform === 'linux' && asRoot ? 'multiuser' : 'insecure')
    assert.equal(buildConfig([{}]).engine, 'insecure', 'without a default engine (local, validate)')
    if (!asRoot) this.skip()
    assert.equal(buildConfig([{}], { defaultEngine: 'multiuser' }).engine, 'multiuser')
    assert.equal(buildConfig([{ engine: 'insecure' }], { defaultEngine: 'multiuser' }).engine, 'insecure', 'an explicit engine wins')
  })
})

describe('config: `run` reads the file alone, as generic-worker does (gwconfig/config.go:282-296)', () => {
  it('a .yml file is still read as JSON: YAML does not decode (exit 64)', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'megalodon-config-')), 'worker.yml')
    writeFileSync(file, 'rootURL: https://tc.example.com\n')
    const err = await loadWorkerConfig(file).catch((e: unknown) => e)
    assert.equal(exitCodeFor(err), 64)
    assert.match((err as Error).message, new RegExp(`^Error unmarshaling generic worker config file ${file} as JSON: `))
  })
})

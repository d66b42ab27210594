// generic-worker's enable* switches against the features every task requests (main.go:82-94,
// 1196-1214): Mounts/Caches, OS Groups and Metadata always, Live Log and Resource Monitor unless
// the payload turns them off; the first requested and disabled one, in that order, refuses the
// task as malformed with its name.
import assert from 'node:assert/strict'
import { buildConfig, type RawConfig } from '../../src/config/config.js'
import { MalformedPayload } from '../../src/contract/errors.js'
import { validateNativePayload } from '../../executors/native/payload.js'
import type { TaskDefinition } from '../../src/contract/taskcluster.js'
import { loadJsonSchema } from '../../src/lib/json-schema.js'

// the validators' ajv is imported on first use (FamilyProfile.load); these tests call them directly
await loadJsonSchema()

const task = (payload: Record<string, unknown>): TaskDefinition =>
  ({ scopes: [], dependencies: [], deadline: new Date(Date.now() + 3600e3).toISOString(), expires: new Date(Date.now() + 7200e3).toISOString(), payload: { command: [['true']], maxRunTime: 60, ...payload } }) as unknown as TaskDefinition
const refusal = (payload: Record<string, unknown>, config: RawConfig): string | undefined => {
  try {
    validateNativePayload(task(payload), buildConfig([{ workerType: 'wt', engine: 'insecure', ...config }]))
    return undefined
  } catch (err) {
    assert.ok(err instanceof MalformedPayload)
    return /attempting to use feature "([^"]+)"/.exec(String((err as MalformedPayload).problems))?.[1]
  }
}

describe('enable* switches (main.go:1196-1214)', () => {
  it('Mounts/Caches, OS Groups and Metadata off: every task is refused (mounts_feature.go:444-446, os_groups_feature.go:23-26, metadata_feature.go:46-48)', () => {
    assert.equal(refusal({}, { enableMounts: false }), 'Mounts/Caches')
    assert.equal(refusal({}, { enableOSGroups: false }), 'OS Groups')
    assert.equal(refusal({}, { enableMetadata: false }), 'Metadata')
  })
  it('Live Log and Resource Monitor off: refused unless the payload turns them off (livelog_feature.go:33-35, resource_monitor_feature.go:26-28)', () => {
    assert.equal(refusal({}, { enableLiveLog: false }), 'Live Log')
    assert.equal(refusal({ features: { liveLog: false } }, { enableLiveLog: false }), undefined)
    assert.equal(refusal({}, { enableResourceMonitor: false }), 'Resource Monitor')
    assert.equal(refusal({ features: { resourceMonitor: false } }, { enableResourceMonitor: false }), undefined)
  })
  it('the first in generic-worker’s feature order wins (main.go:82-94)', () => {
    assert.equal(refusal({}, { enableMetadata: false, enableMounts: false, enableLiveLog: false }), 'Live Log')
    assert.equal(refusal({ features: { taskclusterProxy: true } }, { enableTaskclusterProxy: false, enableOSGroups: false }), 'Taskcluster Proxy')
    assert.equal(refusal({}, { enableMetadata: false, enableResourceMonitor: false }), 'Resource Monitor')
  })
})

// generic-worker checks a task's features one by one in its feature order (main.go:82-94, then
// platformFeatures: multiuser_linux.go:16-20), each one's scopes (main.go:1219-1229) before its
// Start(); Mounts/Caches reports a mounted artifact missing from task.dependencies in Start()
// (mounts_feature.go:543, 614-616), so never alongside its own scope refusal.
import assert from 'node:assert/strict'
import { buildConfig, type RawConfig } from '../../src/config/config.js'
import { MalformedPayload } from '../../src/contract/errors.js'
import { validateNativePayload } from '../../executors/native/payload.js'
import type { TaskDefinition } from '../../src/contract/taskcluster.js'
import { loadJsonSchema } from '../../src/lib/json-schema.js'

// the validators' ajv is imported on first use (FamilyProfile.load); these tests call them directly
await loadJsonSchema()

const task = (payload: Record<string, unknown>, dependencies: string[] = []): TaskDefinition =>
  ({ scopes: [], dependencies, deadline: new Date(Date.now() + 3600e3).toISOString(), expires: new Date(Date.now() + 7200e3).toISOString(), payload: { command: [['true']], maxRunTime: 60, ...payload } }) as unknown as TaskDefinition
const problems = (t: TaskDefinition, config: RawConfig = {}): string[] => {
  try {
    validateNativePayload(t, buildConfig([{ workerType: 'wt', engine: 'multiuser', enableLoopbackAudio: true, enableLoopbackVideo: true, enableRunTaskAsCurrentUser: true, ...config }]))
    return []
  } catch (err) {
    assert.ok(err instanceof MalformedPayload, String(err))
    return err.problems.map((p) => /^(?:Feature "([^"]+)"|(\[mounts\]))/.exec(p)?.slice(1).find((x) => x) ?? p)
  }
}

const artifactMount = { file: 'f', content: { taskId: 'abcdefghQxCabcdefghijA', artifact: 'public/a' } }
const cacheMount = { cacheName: 'c', directory: 'd' }

describe('order of generic-worker payload refusals (main.go:82-94, multiuser_linux.go:16-20)', () => {
  it('OS Groups, Mounts/Caches, Run Task As Current User, LoopbackAudio, LoopbackVideo', () => {
    const t = task({ osGroups: ['docker'], mounts: [cacheMount], features: { runTaskAsCurrentUser: true, loopbackVideo: true, loopbackAudio: true } })
    assert.deepEqual(problems(t), ['OS Groups', 'Mounts/Caches', 'Run Task As Current User', 'LoopbackAudio', 'LoopbackVideo'])
  })
  it('a Mounts/Caches scope refusal comes without the task.dependencies one (mounts_feature.go:543 is in Start)', () => {
    assert.deepEqual(problems(task({ mounts: [cacheMount, artifactMount] })), ['Mounts/Caches'])
    assert.deepEqual(problems(task({ mounts: [artifactMount] })), ['[mounts]'])
    assert.deepEqual(problems(task({ mounts: [artifactMount] }, ['abcdefghQxCabcdefghijA'])), [])
  })
})

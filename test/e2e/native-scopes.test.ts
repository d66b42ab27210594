// generic-worker checks a feature's scopes against the task's scopes as written and, only when
// that fails and the task holds an `assume:` scope, against their expansion through Auth with the
// worker's own credentials (workers/generic-worker/main.go:1219-1228,
// internal/scopes/scopes.go:60-117). An Auth failure is resource-unavailable (main.go:1220-1224);
// the refusal lists the task's scopes as written (main.go:1227).
import assert from 'node:assert/strict'
import { FakeQueue, WORKER } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

describe('generic payloads: feature scopes through auth.expandScopes (fake Queue, native executor)', function () {
  this.timeout(60_000)
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue().start()
  })
  afterEach(async () => fake?.stop())

  // Mounts/Caches needs generic-worker:cache:<name> for each writable cache (mounts_feature.go:455-466)
  const cachePayload = { command: [['true']], maxRunTime: 60, mounts: [{ directory: 'c', cacheName: 'role-cache' }] }
  const expandCalls = () => fake.requests.filter((r) => r.method === 'expandScopes')

  it('runs a task whose cache scope only a role grants, asking Auth once with the worker’s credentials', async () => {
    fake.auth.roles.set('project:cachers', ['generic-worker:cache:role-cache'])
    const o = await submitAndRun(fake, cachePayload, { task: { scopes: ['assume:project:cachers'] } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.deepEqual(expandCalls().map((r) => [r.clientId, r.status]), [[WORKER.clientId, 200]])
  })

  it('does not ask Auth when the scopes as written already satisfy the feature (scopes.go:87-92)', async () => {
    const o = await submitAndRun(fake, cachePayload, { task: { scopes: ['assume:project:cachers', 'generic-worker:cache:role-*'] } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.equal(expandCalls().length, 0)
  })

  it('does not ask Auth without an assume: scope, even one a * could cover (scopes.go:102-106)', async () => {
    fake.auth.roles.set('project:cachers', ['generic-worker:cache:role-cache'])
    const o = await submitAndRun(fake, cachePayload, { task: { scopes: ['assum*'] } })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'], o.log)
    assert.equal(expandCalls().length, 0)
  })

  it('refuses when the expansion does not help either, listing the task’s scopes as written (main.go:1227)', async () => {
    fake.auth.roles.set('project:other', ['generic-worker:cache:other-cache'])
    const o = await submitAndRun(fake, cachePayload, { task: { scopes: ['assume:project:other'] } })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'], o.log)
    const errorLines = o.log.split('\n').filter((l) => l.startsWith('[taskcluster:error] ')).map((l) => l.slice('[taskcluster:error] '.length)).join('\n')
    assert.match(errorLines, /Feature "Mounts\/Caches" requires scopes:\n\ngeneric-worker:cache:role-cache\n\nbut task only has scopes:\n\nassume:project:other\n\nYou probably should add some scopes to your task definition/)
    assert.equal(expandCalls().length, 1)
  })

  it('resolves resource-unavailable when Auth refuses to expand (main.go:1220-1224)', async () => {
    fake.auth.roles.set('project:cachers', ['generic-worker:cache:role-cache'])
    fake.injectFault({ method: 'expandScopes', status: 403 })
    const o = await submitAndRun(fake, cachePayload, { task: { scopes: ['assume:project:cachers'] } })
    assert.deepEqual([o.state, o.reason], ['exception', 'resource-unavailable'], o.log)
    assert.match(o.log, /could not expand the task's scopes through the Auth service/)
  })
})

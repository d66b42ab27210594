// When megalodon asks Auth to expand a docker task's scopes, and how the fake Auth expands them.
import assert from 'node:assert/strict'
import { needsExpansion } from '../../executors/docker/task-scopes.js'
import { mayAssumeRoles } from '../../src/lib/scopes.js'
import { expandScopes } from '../helpers/fake-queue/auth-routes.js'

describe('docker task scopes: role expansion', () => {
  it('knows which scopes can assume a role', () => {
    assert.equal(mayAssumeRoles(['assume:project:x']), true)
    assert.equal(mayAssumeRoles(['*']), true)
    assert.equal(mayAssumeRoles(['ass*']), true)
    assert.equal(mayAssumeRoles(['assume:*']), true)
    assert.equal(mayAssumeRoles(['docker-worker:cache:*', 'queue:*']), false)
  })

  it('expands only for payloads with caches or devices (the checks that used the expansion: docker-worker src/task.js:426-434)', () => {
    const scopes = ['assume:project:x']
    assert.equal(needsExpansion({ image: 'i', maxRunTime: 1, cache: { a: '/a' } } as never, scopes), true)
    assert.equal(needsExpansion({ image: 'i', maxRunTime: 1, capabilities: { devices: { kvm: true } } } as never, scopes), true)
    // docker-worker checked every listed device, `false` ones too (src/task_listener.js:445-452, src/task.js:160-170)
    assert.equal(needsExpansion({ image: 'i', maxRunTime: 1, capabilities: { devices: { kvm: false } } } as never, scopes), true)
    assert.equal(needsExpansion({ image: 'i', maxRunTime: 1, cache: { a: '/a' } } as never, ['docker-worker:cache:a']), false)
  })

  it('the fake Auth expands roles recursively, with <..> for roles ending in *', () => {
    const roles = new Map([
      ['a', ['assume:b', 'x:1']],
      ['b', ['x:2']],
      ['repo:*', ['cache:<..>']],
    ])
    assert.deepEqual(expandScopes(roles, ['assume:a']), ['assume:a', 'assume:b', 'x:1', 'x:2'])
    assert.deepEqual(expandScopes(roles, ['assume:repo:p/q']), ['assume:repo:p/q', 'cache:p/q'])
    assert.deepEqual(expandScopes(roles, ['x:*', 'x:1']), ['x:*'])
  })
})

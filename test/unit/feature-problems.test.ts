// generic-worker's refusals of a feature: not enabled on the pool (workers/generic-worker/main.go:1207-1213)
// and scopes missing (main.go:1227, formats internal/scopes/scopes.go:122-151).
import assert from 'node:assert/strict'
import { featureNotEnabledProblem, missingScopeAlternativesProblem, missingScopesProblem } from '../../src/lib/scopes.js'

describe('feature refusals (generic-worker wording)', () => {
  it('names the feature by its Name() and links the pool’s worker-manager page, path-escaped', () => {
    const text = featureNotEnabledProblem('taskclusterProxy', { provisionerId: 'proj-x', workerType: 'linux_b', rootURL: 'https://tc.example.com' })
    assert.equal(
      text,
      [
        `this task is attempting to use feature "Taskcluster Proxy", but it's not enabled on this worker pool (proj-x/linux_b)`,
        'If you do not require this feature, remove the toggle from the task definition.',
        'If you do require this feature, please do one of two things:',
        '\t1. Contact the owner of the worker pool proj-x/linux_b (see https://tc.example.com/worker-manager/proj-x%2Flinux_b) and ask for "Taskcluster Proxy" to be enabled.',
        '\t2. Use a worker pool that already allows "Taskcluster Proxy"',
      ].join('\n'),
    )
  })
  it('lists the required scopes joined by ", and\\n" and the given ones by " and " (or <no scopes>)', () => {
    assert.equal(
      missingScopesProblem('osGroups', ['a', 'b'], ['generic-worker:os-group:p/w/docker', 'generic-worker:os-group:p/w/video']),
      'Feature "OS Groups" requires scopes:\n\ngeneric-worker:os-group:p/w/docker, and\ngeneric-worker:os-group:p/w/video\n\nbut task only has scopes:\n\na and b\n\nYou probably should add some scopes to your task definition',
    )
    assert.match(missingScopesProblem('interactive', [], ['x'])!, /but task only has scopes:\n\n<no scopes>\n\n/)
    assert.equal(missingScopesProblem('interactive', ['x*'], ['xy']), undefined)
  })
  it('lists alternatives as scopes.Required does, the expected text of upstream TestDescRequired (internal/scopes/scopes_descriptions_test.go:30-32)', () => {
    const text = missingScopeAlternativesProblem('loopbackVideo', [], [['abc', 'def'], ['ghi'], ['jkl', 'mno', 'pqr']])!
    assert.ok(text.includes('requires scopes:\n\n(abc and def), or\nghi, or\n(jkl and mno and pqr)\n\nbut task only has scopes:'), text)
    // any one alternative suffices, each only with all of its scopes (scopes.go:68-85)
    assert.equal(missingScopeAlternativesProblem('loopbackVideo', ['ghi'], [['abc', 'def'], ['ghi']]), undefined)
    assert.ok(missingScopeAlternativesProblem('loopbackVideo', ['abc'], [['abc', 'def'], ['ghi']]))
    assert.equal(missingScopeAlternativesProblem('loopbackVideo', [], []), undefined, 'no required scopes is always satisfied (scopes.go:64-67)')
  })
})

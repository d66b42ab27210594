// generic-worker merges the chain of trust certificate over a task's additional data with
// mergemap.Merge (chain_of_trust_feature.go:286-292), pinned at v0.0.1 (go.mod): src wins,
// objects present on both sides merge, arrays are replaced, more than MaxDepth (32) nested
// objects on both sides panic.
import assert from 'node:assert/strict'
import { goMarshalIndentMap, goMergeMap, MERGE_MAX_DEPTH } from '../../src/lib/go-json.js'

describe('goMergeMap (mergemap v0.0.1)', () => {
  it('the second map wins; objects merge key by key; arrays and mismatched kinds are replaced', () => {
    const dst = { a: 1, keep: 'task', env: { note: 'task', region: 'task' }, list: [1, 2], kind: { x: 1 }, n: null }
    const src = { a: 2, env: { region: 'worker', instanceId: 'i' }, list: [3], kind: 'scalar', n: { y: 1 } }
    assert.deepEqual(goMergeMap(dst, src), { a: 2, keep: 'task', env: { note: 'task', region: 'worker', instanceId: 'i' }, list: [3], kind: 'scalar', n: { y: 1 } })
  })
  it('"__proto__" stays an ordinary key', () => {
    const merged = goMergeMap({}, JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.deepEqual(Object.keys(merged), ['__proto__'])
  })
  it('throws (mergemap panics: "too deep!") past MaxDepth nested objects present on both sides', () => {
    const nest = (levels: number, leaf: unknown): Record<string, unknown> => (levels === 0 ? { leaf } : { o: nest(levels - 1, leaf) })
    assert.doesNotThrow(() => goMergeMap(nest(MERGE_MAX_DEPTH, 1), nest(MERGE_MAX_DEPTH, 2)))
    assert.throws(() => goMergeMap(nest(MERGE_MAX_DEPTH + 1, 1), nest(MERGE_MAX_DEPTH + 1, 2)), /too deep!/)
    assert.doesNotThrow(() => goMergeMap({}, nest(100, 2)), 'only shared nesting recurses')
  })
  it('a merged certificate is a Go map when marshalled: the top level sorted too', () => {
    assert.deepEqual(Object.keys(JSON.parse(goMarshalIndentMap({ workerId: 'w', artifacts: {}, taskId: 't' }).toString())), ['artifacts', 'taskId', 'workerId'])
  })
})

// The error list generic-worker prints for a payload its schema refuses (main.go:935-937), as
// gojsonschema v1.2.0 (its go.mod) builds it: validation.go's walk, and the score with which a
// failed oneOf picks the branch it reports (validation.go:304-326, result.go:205-220).
//
// The expected lines below are what gojsonschema v1.2.0 printed, run by the session that wrote
// this test (a Go program linking the library, no part of this project) on the schema
// generic-worker embeds (JSONSchema() in generated_insecure_linux.go, the same document as
// ../shared/upstream/generic-worker/insecure_posix.yml). Go visits map keys in random order, so
// upstream's order among sibling errors varies between runs: the first line is compared as it
// is, the rest as a multiset.
import assert from 'node:assert/strict'
import { buildConfig } from '../../src/config/config.js'
import { PayloadSchemaInvalid } from '../../src/contract/errors.js'
import type { TaskDefinition } from '../../src/contract/taskcluster.js'
import { validateNativePayload } from '../../executors/native/payload.js'
import { payloadDocumentFor } from '../../executors/native/schema.js'
import { goFloatString, gojsonschemaErrors } from '../../src/lib/gojsonschema-walk.js'
import { loadJsonSchema } from '../../src/lib/json-schema.js'
import { readUpstreamYaml } from '../helpers/upstream.js'

await loadJsonSchema()

const upstream = {
  insecure: readUpstreamYaml('generic-worker/insecure_posix.yml') as Record<string, unknown>,
  multiuser: readUpstreamYaml('generic-worker/multiuser_posix.yml') as Record<string, unknown>,
  windows: readUpstreamYaml('generic-worker/multiuser_windows.yml') as Record<string, unknown>,
}

const sameList = (got: string[], want: string[]) => {
  assert.equal(got[0], want[0])
  assert.deepEqual([...got].sort(), [...want].sort())
}

const slugPattern = "'^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$'"
const oneOf = '(root): Must validate one and only one schema (oneOf)'

// [what, payload, lines gojsonschema v1.2.0 printed for insecure_posix]
const oracle: Array<[string, unknown, string[]]> = [
  ['a docker-style command, no image: the docker branch scores higher', { command: ['echo hi'], maxRunTime: 10 }, [oneOf, '(root): image is required']],
  ['no command: on a tie the generic branch, the first, stays', { maxRunTime: 10 }, [oneOf, '(root): command is required']],
  ['artifacts as docker-worker writes them: the docker branch', { command: [['a']], maxRunTime: 10, artifacts: { 'public/a': { type: 'file', path: 'a' } } }, [oneOf, '(root): image is required', 'command.0: Invalid type. Expected: string, given: array']],
  ['an unknown property and a wrong type', { command: [['true']], maxRunTime: 'x', foo: 1 }, [oneOf, '(root): Additional property foo is not allowed', 'maxRunTime: Invalid type. Expected: integer, given: string']],
  [
    'nested oneOfs (mounts, content) report their closest branch too',
    { command: [['a']], maxRunTime: 0.5, mounts: [{ file: 'f', content: { taskId: 'x', artifact: 'a' } }] },
    [oneOf, 'maxRunTime: Invalid type. Expected: integer, given: number', 'mounts.0: Must validate one and only one schema (oneOf)', 'mounts.0.content: Must validate one and only one schema (oneOf)', `mounts.0.content.taskId: Does not match pattern ${slugPattern}`],
  ],
  ['a file mount with an unknown format', { command: [['a']], maxRunTime: 10, mounts: [{ file: 'f', content: { raw: 'x' }, format: 'zip' }] }, [oneOf, 'mounts.0: Must validate one and only one schema (oneOf)', 'mounts.0.format: mounts.0.format must be one of the following: "br", "bz2", "gz", "lz", "lz4", "mz", "sz", "xz", "zst", "zz"']],
  ['a directory mount without its format', { command: [['a']], maxRunTime: 10, mounts: [{ directory: 'd', content: { raw: 'x' } }] }, [oneOf, 'mounts.0: Must validate one and only one schema (oneOf)', 'mounts.0: format is required']],
  [
    'enum, format and minItems in one payload',
    { command: [], maxRunTime: 10, artifacts: [{ type: 'volume', path: 'a', expires: 'soon' }] },
    [oneOf, "artifacts.0.expires: Does not match format 'date-time'", 'artifacts.0.type: artifacts.0.type must be one of the following: "file", "directory"', 'command: Array must have at least 1 items'],
  ],
  ['map values and array items', { command: [['a']], maxRunTime: 10, env: { A: 1 }, onExitStatus: { retry: ['1'] } }, [oneOf, 'env.A: Invalid type. Expected: string, given: integer', 'onExitStatus.retry.0: Invalid type. Expected: integer, given: string']],
  ['not an object', 'echo', [oneOf, '(root): Invalid type. Expected: object, given: string']],
  ['a multiuser-only feature on the insecure engine', { command: [['a']], maxRunTime: 10, features: { chainOfTrust: true } }, [oneOf, 'features: Additional property chainOfTrust is not allowed']],
]

/** Payloads around generic and docker-style ones, each key deleted or replaced by odd values. */
function mutationCorpus(): unknown[] {
  const slug = 'AAAAAAAAQACAAAAAAAAAAA'
  const bases: unknown[] = [
    { command: [['true']], maxRunTime: 10 },
    {
      command: [['bash', '-c', 'echo']],
      maxRunTime: 30,
      env: { A: 'b' },
      artifacts: [{ type: 'file', path: 'a', name: 'public/a' }, { type: 'directory', path: 'd', name: 'public/d', expires: '2030-01-01T00:00:00Z' }],
      mounts: [{ cacheName: 'c', directory: 'cache' }, { file: 'f', content: { url: 'https://example.com/x' } }, { directory: 'd', format: 'tar.gz', content: { taskId: slug, artifact: 'public/x.tgz' } }, { file: 'r', content: { raw: 'hi' } }],
      features: { taskclusterProxy: true, interactive: false },
      onExitStatus: { retry: [1], purgeCaches: [2] },
      osGroups: ['docker'],
      supersederUrl: 'https://x.example/s',
    },
    { command: ['echo hi'], maxRunTime: 10 },
    { command: ['/bin/bash', '-c', 'echo'], maxRunTime: 10, env: { A: 'b' }, artifacts: { 'public/a': { type: 'file', path: '/a' } }, cache: { c: '/cache' }, capabilities: { privileged: true }, features: { dind: true } },
    { maxRunTime: 10, artifacts: { 'public/a': { type: 'file', path: 'a', expires: '2020-01-01T00:00:00Z' } }, cache: {} },
    {},
  ]
  const values = [null, 'x', 1, 1.5, -1, 0, true, [], {}, [1], ['x'], [[]], [['a'], ['a']], { bogus: 1 }, '2030-01-01', 'not a uri', 'https://ok.example/']
  const paths = (v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> => {
    const r = [prefix]
    if (prefix.length >= 3 || typeof v !== 'object' || v === null) return r
    for (const k of Object.keys(v)) r.push(...paths((v as Record<string, unknown>)[k], [...prefix, Array.isArray(v) ? Number(k) : k]))
    return r
  }
  const edit = (base: unknown, at: Array<string | number>, change: (parent: Record<string | number, unknown>, key: string | number) => void): unknown => {
    const copy = structuredClone(base) as Record<string | number, unknown>
    let parent = copy
    for (const p of at.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>
    change(parent, at.at(-1)!)
    return copy
  }
  const corpus: unknown[] = []
  for (const base of bases) {
    corpus.push(base)
    for (const at of paths(base)) {
      if (at.length > 0) corpus.push(edit(base, at, (p, k) => (Array.isArray(p) ? p.splice(Number(k), 1) : delete p[k])))
      for (const v of values) corpus.push(at.length === 0 ? v : edit(base, at, (p, k) => (p[k] = structuredClone(v))))
      const target = at.reduce<unknown>((x, k) => (x as Record<string | number, unknown>)[k], base)
      if (typeof target === 'object' && target !== null && !Array.isArray(target)) corpus.push(edit(base, [...at, 'bogus'], (p, k) => (p[k] = 'x')))
    }
  }
  return corpus
}

describe('generic-worker’s schema error list (gojsonschema v1.2.0)', () => {
  for (const [what, payload, want] of oracle) {
    it(`${what} (as gojsonschema printed it)`, () => {
      sameList(gojsonschemaErrors(upstream.insecure, payload), want)
    })
  }

  it('megalodon’s schemas give upstream’s lists, engine by engine, over a corpus of mutated payloads', () => {
    const corpus = mutationCorpus()
    assert.ok(corpus.length > 1000)
    for (const engine of ['insecure', 'multiuser'] as const) {
      const ours = payloadDocumentFor(engine, 'linux')
      let dockerBranch = 0
      for (const payload of corpus) {
        const want = gojsonschemaErrors(upstream[engine], payload)
        sameList(gojsonschemaErrors(ours, payload), want)
        if (want.includes('(root): image is required')) dockerBranch++
      }
      // the corpus reaches the docker branch, not only the generic one
      assert.ok(dockerBranch > 100, `${engine}: ${dockerBranch}`)
    }
    const windows = payloadDocumentFor('multiuser', 'windows')
    for (const payload of corpus) sameList(gojsonschemaErrors(windows, payload), gojsonschemaErrors(upstream.windows, payload))
  })

  it('a valid payload has no errors', () => {
    assert.deepEqual(gojsonschemaErrors(upstream.insecure, { command: [['true']], maxRunTime: 10 }), [])
    assert.deepEqual(gojsonschemaErrors(payloadDocumentFor('insecure', 'linux'), { command: [['true']], maxRunTime: 10 }), [])
  })

  it('limits are quoted as big.Float prints them, Text(g, 10) (values from Go’s math/big)', () => {
    const go: Array<[number, string]> = [[1, '1'], [0.5, '0.5'], [1e6, '1000000'], [9999999999, '9999999999'], [1e10, '1e+10'], [123456789012, '1.23456789e+11'], [0.0001, '0.0001'], [0.00001, '1e-05'], [-2.5, '-2.5'], [86400, '86400'], [1.25e-7, '1.25e-07'], [3.14159265358979, '3.141592654']]
    for (const [n, s] of go) assert.equal(goFloatString(n), s, String(n))
  })

  it('a refused generic payload reports the docker branch where gojsonschema would (main.go:935-937)', () => {
    const task = { scopes: [], dependencies: [], deadline: new Date(Date.now() + 3600e3).toISOString(), expires: new Date(Date.now() + 7200e3).toISOString(), payload: { command: ['echo hi'], maxRunTime: 10 } } as unknown as TaskDefinition
    assert.throws(
      () => validateNativePayload(task, buildConfig([{ workerType: 'wt', engine: 'insecure' }])),
      (err: unknown) => err instanceof PayloadSchemaInvalid && JSON.stringify(err.problems) === JSON.stringify([oneOf, '(root): image is required']),
    )
  })
})

// Our docker-worker payload schema against upstream's payload.yml: every docker-worker payload
// of the d2g corpus validates with both, and both agree on a corpus of mutations built from
// the upstream file's fields.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { dockerPayloadValidator } from '../../executors/docker/schema.js'
import { readUpstreamYaml, upstreamDir } from '../helpers/upstream.js'
import { loadJsonSchema, newAjv } from '../../src/lib/json-schema.js'

// ajv is imported on first use (FamilyProfile.load); these tests compile schemas as they load
await loadJsonSchema()

function upstreamValidator() {
  const schema = { ...(readUpstreamYaml('docker-worker/payload.yml') as Record<string, unknown>) }
  delete schema.$schema
  return newAjv({ validateSchema: false }).compile(schema)
}

function d2gCorpus(): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = []
  for (const file of readdirSync(path.join(upstreamDir, 'd2g-testcases'))) {
    if (file.startsWith('_')) continue
    const suite = readUpstreamYaml(`d2g-testcases/${file}`) as { testSuite: { payloadTests?: Array<{ description: string; dockerWorkerTaskPayload?: unknown }> } }
    for (const t of suite.testSuite.payloadTests ?? []) if (t.dockerWorkerTaskPayload) out.push([`${file}: ${t.description}`, t.dockerWorkerTaskPayload])
  }
  return out
}

function mutations(): Array<[string, unknown]> {
  const base = { image: 'ubuntu:24.04', command: ['echo', 'hi'], maxRunTime: 600 }
  const values: Record<string, unknown[]> = {
    image: ['x', 5, null, { type: 'docker-image', name: 'a' }, { type: 'docker-image' }, { type: 'indexed-image', namespace: 'n', path: 'p' }, { type: 'indexed-image', namespace: 'n' }, { type: 'task-image', taskId: 't', path: 'p' }, { type: 'task-image', taskId: 't', path: 'p', extra: 1 }, { type: 'other', name: 'a' }],
    command: [[], ['a', 'b'], 'echo', [1], [['a']]],
    env: [{}, { A: 'b' }, { A: 1 }, []],
    maxRunTime: [1, 0, -5, 1.5, '60'],
    cache: [{}, { 'a-cache': '/cache' }, { a: 1 }, []],
    capabilities: [{}, { privileged: true, disableSeccomp: true, devices: { kvm: true, hostSharedMemory: true, loopbackAudio: false, loopbackVideo: true } }, { privileged: 'yes' }, { devices: { gpu: true } }, { other: true }],
    onExitStatus: [{}, { retry: [1, 2], purgeCaches: [3] }, { retry: [-1] }, { retry: ['1'] }, { other: [] }],
    artifacts: [{}, { 'public/a': { type: 'file', path: '/a' } }, { 'public/d': { type: 'directory', path: '/d', expires: '2030-01-01T00:00:00Z' } }, { v: { type: 'volume', path: '/v' } }, { a: { type: 'link', path: '/a' } }, { a: { path: '/a' } }, { a: { type: 'file', path: '/a', expires: 'soon' } }, []],
    features: [{}, { localLiveLog: false, bulkLog: true, taskclusterProxy: true, artifacts: true, interactive: true, allowPtrace: true, chainOfTrust: true }, { dind: true }, { taskclusterProxy: 'yes' }],
    log: ['public/logs/custom.log', 5],
    supersederUrl: ['https://example.com', 1],
    unknown: [1],
  }
  const out: Array<[string, unknown]> = [['base', base], ['empty', {}], ['no image', { maxRunTime: 5 }], ['no maxRunTime', { image: 'x' }]]
  for (const [field, list] of Object.entries(values)) list.forEach((v, i) => out.push([`${field} #${i}`, { ...base, [field]: v }]))
  return out
}

describe('docker-worker payload schema: ours vs upstream', function () {
  const ours = dockerPayloadValidator()
  const theirs = upstreamValidator()
  const corpus = d2gCorpus()

  it('finds the d2g corpus of real docker-worker payloads', () => assert.ok(corpus.length >= 25, `${corpus.length} payloads`))

  for (const [name, payload] of corpus) {
    it(`validates d2g ${name}`, () => {
      assert.equal(theirs(structuredClone(payload)), true, 'upstream accepts it')
      assert.equal(ours(structuredClone(payload)), true, JSON.stringify(ours.errors))
    })
  }

  for (const [name, payload] of mutations()) {
    it(`agrees on ${name}`, () => assert.equal(ours(structuredClone(payload)), theirs(structuredClone(payload)), JSON.stringify(payload)))
  }

  it('the mutation corpus has both valid and invalid payloads', () => {
    const verdicts = mutations().map(([, p]) => theirs(structuredClone(p)))
    assert.ok(verdicts.filter(Boolean).length >= 15 && verdicts.filter((v) => !v).length >= 20)
  })
})

// Our generic-worker payload schema against upstream's (the generic-worker branch of
// insecure_posix.yml): both must agree on every payload of a corpus built from the upstream
// file's fields, plus every generic-worker payload in the d2g test suites.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { multiuserPayloadValidator, payloadValidator, windowsPayloadValidator } from '../../executors/native/schema.js'
import { readUpstreamYaml, upstreamDir } from '../helpers/upstream.js'
import { loadJsonSchema, newAjv } from '../../src/lib/json-schema.js'

// ajv is imported on first use (FamilyProfile.load); these tests compile schemas as they load
await loadJsonSchema()

function upstreamGenericValidator(file = 'generic-worker/insecure_posix.yml') {
  const full = readUpstreamYaml(file) as { oneOf: Record<string, unknown>[]; definitions: unknown }
  const generic = { ...full.oneOf[0], definitions: full.definitions }
  return newAjv({ validateSchema: false }).compile(generic)
}

const base = { command: [['echo', 'hi']], maxRunTime: 60 }
const sha = 'a'.repeat(64)
const slug = 'KTBKfEgxR5GdfIIREQIvFQ'

function corpus(): Array<[string, unknown]> {
  const c: Array<[string, unknown]> = []
  const add = (name: string, patch: Record<string, unknown>) => c.push([name, { ...base, ...patch }])
  c.push(['base', base], ['empty', {}], ['not an object', 'echo'], ['array', []], ['no maxRunTime', { command: base.command }], ['no command', { maxRunTime: 5 }])
  const values: Record<string, unknown[]> = {
    command: [[], [[]], [['a'], ['b', 'c']], 'echo', [['a', 1]], [[null]], ['echo hi']],
    env: [{}, { A: 'b' }, { A: 1 }, { A: true }, { A: null }, [], 'x'],
    maxRunTime: [0, 1, -1, 1.5, '10', 86400, 1e9, null],
    artifacts: [
      [],
      [{ type: 'file', path: 'a' }],
      [{ type: 'directory', path: 'a', name: 'public/a', expires: '2030-01-01T00:00:00Z', contentType: 'text/plain', contentEncoding: 'gzip', optional: true }],
      [{ type: 'volume', path: 'a' }],
      [{ path: 'a' }],
      [{ type: 'file' }],
      [{ type: 'file', path: 'a', contentEncoding: 'br' }],
      [{ type: 'file', path: 'a', expires: 'tomorrow' }],
      [{ type: 'file', path: 'a', optional: 'yes' }],
      [{ type: 'file', path: 'a', extra: 1 }],
      [{ type: 'file', path: 'a' }, { type: 'file', path: 'a' }],
      { type: 'file', path: 'a' },
    ],
    features: [
      {},
      { liveLog: false, backingLog: true, taskclusterProxy: true, interactive: false, loopbackVideo: true, loopbackAudio: true, resourceMonitor: false },
      { chainOfTrust: true },
      { liveLog: 'yes' },
      { runTaskAsCurrentUser: true },
      [],
    ],
    mounts: [
      [],
      [{ file: 'f', content: { raw: 'x' } }],
      [{ file: 'f', content: { base64: 'aGk=' }, format: 'gz' }],
      [{ file: 'f', content: { url: 'https://example.com/x', sha256: sha } }],
      [{ file: 'f', content: { taskId: slug, artifact: 'public/x', sha256: sha } }],
      [{ file: 'f', content: { taskId: 'not-a-slug', artifact: 'public/x' } }],
      [{ file: 'f', content: { namespace: 'a.b', artifact: 'public/x' } }],
      [{ file: 'f', content: { raw: 'x', sha256: sha } }],
      [{ file: 'f', content: { base64: 'not base64!' } }],
      [{ file: 'f', content: { url: 'x', sha256: 'ABC' } }],
      [{ file: 'f', content: { raw: 'x' }, format: 'zip' }],
      [{ directory: 'd', cacheName: 'c' }],
      [{ directory: 'd', cacheName: 'c', content: { raw: 'x' }, format: 'tar.gz' }],
      [{ directory: 'd', cacheName: 'c', content: { raw: 'x' } }],
      [{ directory: 'd', cacheName: 'c', format: 'zip' }],
      [{ directory: 'd', content: { url: 'https://example.com/a.zip' }, format: 'zip' }],
      [{ directory: 'd', content: { url: 'https://example.com/a.zip' } }],
      [{ directory: 'd', content: { url: 'https://example.com/a.rar' }, format: 'rar', extra: 1 }],
      [{ file: 'f' }],
      [{}],
      'mount',
    ],
    osGroups: [[], ['a'], ['a', 'a'], [1], 'a'],
    supersederUrl: ['https://example.com', 5],
    onExitStatus: [{}, { retry: [1, 2] }, { retry: [0] }, { retry: [-1] }, { retry: [1, 1] }, { purgeCaches: [0, 5] }, { purgeCaches: [-1] }, { other: [] }, { retry: 'x' }],
    logs: [{}, { live: 'a', backing: 'b' }, { live: 1 }, { other: 'x' }],
    taskclusterProxyInterface: ['localhost', 'docker-bridge', 'eth0'],
    image: ['ubuntu'],
    unknownField: [true],
  }
  for (const [field, list] of Object.entries(values)) list.forEach((v, i) => add(`${field} #${i}`, { [field]: v }))
  for (const file of readdirSync(path.join(upstreamDir, 'd2g-testcases'))) {
    if (file.startsWith('_')) continue
    const suite = readUpstreamYaml(`d2g-testcases/${file}`) as { testSuite: { payloadTests?: Array<{ description: string; genericWorkerTaskPayload?: unknown }> } }
    for (const t of suite.testSuite.payloadTests ?? []) if (t.genericWorkerTaskPayload) c.push([`d2g ${file}: ${t.description}`, t.genericWorkerTaskPayload])
  }
  return c
}

describe('generic-worker payload schema: ours vs upstream', function () {
  const theirs = upstreamGenericValidator()
  const ours = payloadValidator()
  const cases = corpus()

  it('builds a corpus with both valid and invalid payloads', () => {
    const verdicts = cases.map(([, p]) => theirs(structuredClone(p)))
    assert.ok(cases.length > 90, `${cases.length} cases`)
    assert.ok(verdicts.filter(Boolean).length > 25 && verdicts.filter((v) => !v).length > 40)
  })

  for (const [name, payload] of cases) {
    it(`agrees on ${name}`, () => {
      assert.equal(ours(structuredClone(payload)), theirs(structuredClone(payload)), JSON.stringify(payload).slice(0, 300))
    })
  }
})

describe('generic-worker payload schema, multiuser engine: ours vs upstream multiuser_posix', function () {
  const theirs = upstreamGenericValidator('generic-worker/multiuser_posix.yml')
  const ours = multiuserPayloadValidator()
  const cases = corpus()

  it('differs from the insecure schema exactly where upstream’s do (chainOfTrust, runTaskAsCurrentUser)', () => {
    const insecure = upstreamGenericValidator()
    const differing = cases.filter(([, p]) => insecure(structuredClone(p)) !== theirs(structuredClone(p)))
    assert.ok(differing.length >= 2, 'the corpus has payloads only the multiuser schema accepts')
    for (const [name, payload] of differing) {
      const features = (payload as { features?: Record<string, unknown> }).features ?? {}
      assert.ok('chainOfTrust' in features || 'runTaskAsCurrentUser' in features, `${name} differs for another reason`)
    }
  })

  for (const [name, payload] of cases) {
    it(`agrees on ${name}`, () => {
      assert.equal(ours(structuredClone(payload)), theirs(structuredClone(payload)), JSON.stringify(payload).slice(0, 300))
    })
  }
})

describe('generic-worker payload schema, Windows: ours vs upstream multiuser_windows', function () {
  const full = readUpstreamYaml('generic-worker/multiuser_windows.yml') as Record<string, unknown>
  const theirs = newAjv({ validateSchema: false }).compile(full)
  const ours = windowsPayloadValidator()
  // the posix corpus with cmd.exe lines instead of argv arrays, plus Windows-only fields
  const cases: Array<[string, unknown]> = corpus().map(([name, p]) => {
    if (p && typeof p === 'object' && !Array.isArray(p) && JSON.stringify((p as { command?: unknown }).command) === JSON.stringify(base.command)) return [name, { ...p, command: ['echo hi'] }]
    return [name, p]
  })
  const win = { command: ['echo hi', 'dir'], maxRunTime: 60 }
  for (const [name, patch] of Object.entries({
    'runAsAdministrator': { features: { runAsAdministrator: true } },
    'hideCmdWindow': { features: { hideCmdWindow: true } },
    'hideCmdWindow not boolean': { features: { hideCmdWindow: 'yes' } },
    'rdpInfo': { rdpInfo: 'login-identity/x/rdpinfo.json' },
    'rdpInfo not a string': { rdpInfo: 5 },
    'loopbackVideo on Windows': { features: { loopbackVideo: true } },
    'empty command list': { command: [] },
    'argv-style command': { command: [['echo', 'hi']] },
  })) cases.push([`windows ${name}`, { ...win, ...patch }])

  it('has valid and invalid Windows payloads', () => {
    const verdicts = cases.map(([, p]) => theirs(structuredClone(p)))
    assert.ok(verdicts.filter(Boolean).length > 20 && verdicts.filter((v) => !v).length > 40)
  })

  for (const [name, payload] of cases) {
    it(`agrees on ${name}`, () => {
      assert.equal(ours(structuredClone(payload)), theirs(structuredClone(payload)), JSON.stringify(payload).slice(0, 300))
    })
  }
})

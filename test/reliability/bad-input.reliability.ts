// Reliability: over a thousand malformed payloads, generated from the payload schema, each
// resolve exception/malformed-payload with a message and never crash the worker; awkward task
// output (invalid UTF-8, a 10 MB line, no trailing newline) reaches the log byte for byte.
import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { slugid } from 'taskcluster-client'
import { dockerPayloadValidator } from '../../executors/docker/schema.js'
import { payloadValidator } from '../../executors/native/schema.js'
import { FakeQueue, seededRandom } from '../helpers/fake-queue/index.js'
import { backingLog, submitAndRun } from '../helpers/tasks.js'
import { runWorker, workerConfig } from '../helpers/worker.js'
import { assertNoSecretsUploaded } from './secrets.js'
import { loadJsonSchema } from '../../src/lib/json-schema.js'

// the validators' ajv is imported on first use (FamilyProfile.load); these tests call them directly
await loadJsonSchema()

const seed = Number(process.env.MEGALODON_SEED ?? Date.now() % 1_000_000)

const oddValues: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, 1e12, '', 'x', '\u0000\uffff😀\u202e', 'x'.repeat(100_000), [], [null], [[]], {}, { 'ключ': 'значение' }, '../../../../etc/passwd', '/etc/shadow']
const valid = { command: [['true']], maxRunTime: 30 }
const paths: Array<Array<string | number>> = [
  ['command'], ['command', 0], ['command', 0, 0], ['env'], ['env', 'A'], ['maxRunTime'],
  ['artifacts'], ['artifacts', 0], ['artifacts', 0, 'type'], ['artifacts', 0, 'path'], ['artifacts', 0, 'name'], ['artifacts', 0, 'expires'],
  ['artifacts', 0, 'contentType'], ['artifacts', 0, 'contentEncoding'], ['artifacts', 0, 'optional'],
  ['features'], ['features', 'liveLog'], ['features', 'taskclusterProxy'], ['features', 'chainOfTrust'],
  ['mounts'], ['mounts', 0], ['mounts', 0, 'file'], ['mounts', 0, 'content'], ['mounts', 0, 'directory'],
  ['osGroups'], ['osGroups', 0], ['onExitStatus'], ['onExitStatus', 'retry'], ['onExitStatus', 'retry', 0], ['onExitStatus', 'purgeCaches', 0],
  ['logs'], ['logs', 'live'], ['logs', 'backing'], ['supersederUrl'], ['taskclusterProxyInterface'], ['unknownProperty'], ['ключ'],
]

function withValue(base: unknown, path: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(base) as Record<string, unknown>
  let node: Record<string | number, unknown> = copy
  for (const [i, key] of path.entries()) {
    if (i === path.length - 1) node[key] = value
    else {
      const next = path[i + 1]
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = typeof next === 'number' ? [] : {}
      node = node[key] as Record<string | number, unknown>
    }
  }
  return copy
}

/** Invalid payloads: every odd value at every path, then random combinations (seeded). */
export function malformedPayloads(count: number, random: () => number): unknown[] {
  const validate = payloadValidator()
  // (the Queue itself refuses a payload that is not an object, so every one here is an object)
  const out: unknown[] = [{}, { command: [['true']] }, { maxRunTime: 5 }]
  for (const path of paths) for (const v of oddValues) out.push(withValue(valid, path, v))
  while (out.length < count * 2) {
    let p: unknown = valid
    for (let k = 0; k < 1 + Math.floor(random() * 3); k++) p = withValue(p, paths[Math.floor(random() * paths.length)]!, oddValues[Math.floor(random() * oddValues.length)])
    out.push(p)
  }
  // keep those the schema refuses, plus those only the worker's own rules refuse
  const refusedByWorker = (p: Record<string, unknown>) =>
    (typeof p.maxRunTime === 'number' && p.maxRunTime > 86400) || (Array.isArray(p.osGroups) && p.osGroups.length > 0)
  return out.filter((p) => !validate(structuredClone(p)) || refusedByWorker(p as Record<string, unknown>)).slice(0, count)
}

// docker-worker payloads: the same odd values at the paths of docker-worker's schema
const validDocker = { image: 'megalodon-test/busybox:latest', command: ['true'], maxRunTime: 30 }
const dockerPaths: Array<Array<string | number>> = [
  ['image'], ['image', 'type'], ['image', 'name'], ['image', 'path'], ['image', 'taskId'], ['image', 'namespace'], ['command'], ['command', 0], ['env'], ['env', 'A'],
  ['maxRunTime'], ['artifacts'], ['artifacts', 'public/x'], ['artifacts', 'public/x', 'type'], ['artifacts', 'public/x', 'path'], ['artifacts', 'public/x', 'expires'],
  ['cache'], ['cache', 'c'], ['capabilities'], ['capabilities', 'privileged'], ['capabilities', 'devices'], ['capabilities', 'devices', 'kvm'],
  ['features'], ['features', 'chainOfTrust'], ['features', 'dind'], ['onExitStatus', 'retry', 0], ['log'], ['supersederUrl'], ['unknownProperty'],
]

export function malformedDockerPayloads(count: number, random: () => number): unknown[] {
  const validate = dockerPayloadValidator()
  const out: unknown[] = [{ image: 'x' }, { image: 'x', maxRunTime: 'soon' }]
  for (const path of dockerPaths) for (const v of oddValues) out.push(withValue(validDocker, path, v))
  while (out.length < count * 2) {
    let p: unknown = validDocker
    for (let k = 0; k < 1 + Math.floor(random() * 3); k++) p = withValue(p, dockerPaths[Math.floor(random() * dockerPaths.length)]!, oddValues[Math.floor(random() * oddValues.length)])
    out.push(p)
  }
  // docker-worker set no maxRunTime ceiling beyond its schema (payload.yml:173-179): only schema failures are malformed
  return out.filter((p) => !validate(structuredClone(p))).slice(0, count)
}

describe(`reliability: bad input (seed ${seed})`, function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('resolves 1000+ malformed payloads as malformed-payload with a message, and keeps going', async () => {
    const payloads = malformedPayloads(1050, seededRandom(seed))
    assert.ok(payloads.length >= 1000, `${payloads.length} payloads`)
    const ids: string[] = []
    for (const payload of payloads) {
      const id = slugid()
      ids.push(id)
      await fake.createTask(id, { payload })
    }
    const config = await workerConfig(fake, { numberOfTasksToRun: payloads.length, capacity: 8 })
    const { exitCode } = await runWorker(fake, config)
    assert.equal(exitCode, 0)
    for (const [i, id] of ids.entries()) {
      const run = fake.status(id).runs[0]!
      assert.deepEqual([run.state, run.reasonResolved], ['exception', 'malformed-payload'], `seed ${seed}: payload ${i}: ${JSON.stringify(payloads[i]).slice(0, 200)}`)
      assert.match(backingLog(fake, id), /\[taskcluster:error\] \S/, `payload ${i} has a message`)
    }
    assert.deepEqual(await readdir(String(config.tasksDir)), [], 'nothing left in tasksDir')
    assertNoSecretsUploaded(fake)
  })

  it('resolves 400 malformed docker-worker payloads as malformed-payload (failed when docker-worker refused their features first) with a message', async () => {
    const payloads = malformedDockerPayloads(400, seededRandom(seed + 1))
    assert.ok(payloads.length >= 400, `${payloads.length} payloads`)
    const ids: string[] = []
    for (const payload of payloads) {
      const id = slugid()
      ids.push(id)
      await fake.createTask(id, { payload })
    }
    const config = await workerConfig(fake, { numberOfTasksToRun: payloads.length, capacity: 8 })
    const { exitCode } = await runWorker(fake, config)
    assert.equal(exitCode, 0)
    for (const [i, id] of ids.entries()) {
      const run = fake.status(id).runs[0]!
      // docker-worker refuses unknown or disabled `features` keys in the Task constructor
      // (src/task.js:57-74, called at :337), before the schema check (:802): failed, not malformed
      const features = (payloads[i] as { features?: unknown }).features
      const expected = features && typeof features !== 'number' && typeof features !== 'boolean' ? [['exception', 'malformed-payload'], ['failed', 'failed']] : [['exception', 'malformed-payload']]
      assert.ok(expected.some(([state, reason]) => run.state === state && run.reasonResolved === reason), `seed ${seed + 1}: docker payload ${i} ended ${run.state}/${run.reasonResolved}: ${JSON.stringify(payloads[i]).slice(0, 200)}`)
      assert.match(backingLog(fake, id), /\[taskcluster:error\] \S/, `docker payload ${i} has a message`)
    }
    assert.deepEqual(await readdir(String(config.tasksDir)), [], 'nothing left in tasksDir')
  })

  it('logs invalid UTF-8, a 10 MB line and output without a trailing newline byte for byte', async () => {
    const o = await submitAndRun(fake, {
      command: [['sh', '-c', `printf 'bad \\377\\376 bytes\\n'; head -c 10000000 /dev/zero | tr '\\0' 'y'; printf '\\nno newline at the end'`]],
      maxRunTime: 60,
    })
    assert.equal(o.state, 'completed')
    const raw = fake.artifacts(o.taskId).get('public/logs/live_backing.log')!.content!
    assert.ok(raw.includes(Buffer.from('bad \xff\xfe bytes\n', 'latin1')), 'invalid UTF-8 kept as bytes')
    assert.ok(raw.includes(Buffer.from(`\n${'y'.repeat(10_000_000)}\n`)), 'the 10 MB line intact')
    // generic-worker adds no newline: its next line follows the output (main.go:1056-1065)
    assert.match(raw.toString('latin1'), /\nno newline at the end\[taskcluster \S+\] {24}Exit Code: 0\n/)
  })
})

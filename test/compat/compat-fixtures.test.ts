// The conformance suite: every fixture in compat-fixtures/<family>/ is run through the fake
// Queue and must produce the legacy worker's behaviour written in its `expect` block.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'
import { projectPath } from '../../src/lib/paths.js'
import { dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

interface Fixture {
  description: string
  expect: {
    resolution: string
    reason?: string
    logContains?: string[]
    logLacks?: string[]
    artifacts?: Record<string, Record<string, string>>
    absentArtifacts?: string[]
  }
  payload: unknown
  scopes?: string[]
  /** Worker config keys the fixture needs (on top of the test worker's). */
  config?: Record<string, unknown>
}

const families = ['generic', 'docker']

describe('compat fixtures', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  for (const family of families) {
    const dir = projectPath('compat-fixtures', family)
    for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      const fixture = YAML.parse(readFileSync(path.join(dir, file), 'utf8')) as Fixture
      it(`${family}/${file}: ${fixture.description}`, async function () {
        if (family === 'docker') {
          if (!dockerTestsEnabled()) this.skip()
          await dockerForTests()
        }
        const o = await submitAndRun(fake, fixture.payload, { task: fixture.scopes ? { scopes: fixture.scopes } : {}, ...(fixture.config ? { config: fixture.config } : {}) })
        const e = fixture.expect
        assert.equal(o.state, e.resolution, o.log)
        assert.equal(o.reason, e.reason ?? e.resolution)
        for (const s of e.logContains ?? []) assert.ok(o.log.includes(s), `log contains ${JSON.stringify(s)}\n${o.log}`)
        for (const s of e.logLacks ?? []) assert.ok(!o.log.includes(s), `log lacks ${JSON.stringify(s)}`)
        const artifacts = fake.artifacts(o.taskId)
        for (const [name, want] of Object.entries(e.artifacts ?? {})) {
          const got = artifacts.get(name)
          assert.ok(got, `artifact ${name}`)
          for (const [k, v] of Object.entries(want)) {
            const actual: unknown = k === 'content' ? got.content?.toString('utf8') : (got as unknown as Record<string, unknown>)[k]
            assert.equal(actual, v, `${name}.${k}`)
          }
        }
        for (const name of e.absentArtifacts ?? []) assert.equal(artifacts.has(name), false, name)
      })
    }
  }
})

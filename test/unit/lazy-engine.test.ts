// The engine client loads on first use (executors/docker/lazy-engine.ts), and the start-up
// probe answers from the real engine's socket without it.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { engineHasLabelled, lazyDockerEngine } from '../../executors/docker/lazy-engine.js'
import { dockerodeEngine } from '../../executors/docker/dockerode-engine.js'
import { FakeDockerEngine } from '../helpers/fake-docker-engine.js'

describe('lazy docker engine', () => {
  it('loads the client once, on the first call, and forwards every call to it', async () => {
    let loads = 0
    const fake = new FakeDockerEngine()
    const engine = lazyDockerEngine(async () => {
      loads++
      return fake
    })
    assert.equal(loads, 0)
    const [a, b] = await Promise.all([engine.ping(), engine.networks.listByLabel('x', 'y')])
    assert.equal(a, await fake.ping())
    assert.deepEqual(b, await fake.networks.listByLabel('x', 'y'))
    const made = await engine.networks.create('lazy-net', { x: 'y' })
    assert.deepEqual(await engine.networks.listByLabel('x', 'y'), await fake.networks.listByLabel('x', 'y'))
    assert.ok(made.gateway)
    assert.equal(loads, 1)
  })

  it('the start-up probe sees a labelled network on the real engine, and nothing for a label no one uses', async function () {
    this.timeout(30_000)
    const value = `probe-${randomUUID()}`
    assert.equal(await engineHasLabelled('megalodon.test-probe', value), false)
    const real = dockerodeEngine()
    const network = await real.networks.create(`megalodon-${value}`, { 'megalodon.test-probe': value })
    try {
      assert.equal(await engineHasLabelled('megalodon.test-probe', value), true)
    } finally {
      await real.networks.remove(network.name)
    }
  })

  it('says it cannot tell (undefined) for an engine that is not a unix socket, so the caller does the full sweep', async () => {
    const saved = process.env.DOCKER_HOST
    try {
      process.env.DOCKER_HOST = 'tcp://127.0.0.1:2375'
      assert.equal(await engineHasLabelled('a', 'b'), undefined)
      process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock'
      assert.equal(await engineHasLabelled('a', 'b'), undefined)
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST
      else process.env.DOCKER_HOST = saved
    }
  })
})

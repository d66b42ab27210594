// The engine client loads on first use (executors/docker/lazy-engine.ts), and the start-up
// probe answers from the real engine's socket without it.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import path from 'node:path'
import { engineHasLabelled, lazyDockerEngine } from '../../executors/docker/lazy-engine.js'
import { dockerodeEngine } from '../../executors/docker/dockerode-engine.js'
import { FakeDockerEngine } from '../helpers/fake-docker-engine.js'
import { useTempDir } from '../helpers/temp-dir.js'

describe('lazy docker engine', () => {
  const tempDir = useTempDir('megalodon-engine-')

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

  /** Runs `body` with DOCKER_HOST set to `host`, restoring it after. */
  async function withDockerHost(host: string, body: () => Promise<void>): Promise<void> {
    const saved = process.env.DOCKER_HOST
    try {
      process.env.DOCKER_HOST = host
      await body()
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST
      else process.env.DOCKER_HOST = saved
    }
  }

  it('says it cannot tell (undefined) for an engine that is not a unix socket, or whose answer it does not understand, so the caller does the full sweep', async () => {
    await withDockerHost('tcp://127.0.0.1:2375', async () => assert.equal(await engineHasLabelled('a', 'b'), undefined))
    const socket = path.join(tempDir(), 'docker.sock')
    const server = createServer((_req, res) => res.writeHead(500).end('{"message":"no"}'))
    await new Promise<void>((resolve) => server.listen(socket, resolve))
    try {
      await withDockerHost(`unix://${socket}`, async () => assert.equal(await engineHasLabelled('a', 'b'), undefined))
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('answers false where no engine listens (no socket, or a socket nobody answers on): the client is not loaded for a host without Docker', async () => {
    await withDockerHost('unix:///nonexistent/docker.sock', async () => assert.equal(await engineHasLabelled('a', 'b'), false))
    // a socket file left by a daemon that was killed: connect(2) is refused
    const socket = path.join(tempDir(), 'docker.sock')
    const daemon = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
    await once(daemon.stdout!, 'data')
    daemon.kill('SIGKILL')
    await once(daemon, 'exit')
    assert.ok((await stat(socket)).isSocket(), 'the killed daemon left its socket file')
    await withDockerHost(`unix://${socket}`, async () => assert.equal(await engineHasLabelled('a', 'b'), false))
  })
})

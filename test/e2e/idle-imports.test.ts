// An idle worker has not loaded what only a task, or a feature the operator did not turn on,
// needs (issue #18's idle memory): each of these packages costs 10-30 MiB of resident memory
// (`make bench` prints the figures), and a worker may wait for work for days.
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { packagesLoadedWhenIdle } from '../helpers/idle-packages.js'

/** A port nothing listens on now (the worker's metrics port must be a number, not 0). */
async function unusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('an idle worker', function () {
  this.timeout(60_000)

  it('has loaded neither the Docker client, nor taskcluster-client, node-tar, yauzl, prom-client, ws, yaml, node-pty, the schema validators, tar-stream, mime or pino-pretty, and loads them when asked for', async () => {
    const idle = await packagesLoadedWhenIdle()
    // the resolve hook does see the worker's imports: the Queue calls' Hawk signing and the logger are needed
    assert.ok(idle.includes('hawk') && idle.includes('pino'), `hook saw: ${idle.join(' ')}`)
    // taskcluster-client (with got and lodash) is loaded for object uploads, mounts, images,
    // worker-manager and replay only: claimWork goes through src/taskcluster/api-request.ts
    // ajv 8 and 7 with their formats come with the first payload (FamilyProfile.load), tar-stream
    // and mime with the first docker artifact or image tarball, pino-pretty on a terminal only
    const lazyAfterTask = ['ajv', 'ajv7', 'ajv-formats', 'ajv-formats2', 'fast-uri', 'tar-stream', 'mime2', 'pino-pretty']
    for (const lazy of ['dockerode', 'docker-modem', 'ssh2', 'taskcluster-client', 'got', 'lodash', 'tar', 'yauzl', 'prom-client', 'ws', 'yaml', 'node-pty', ...lazyAfterTask]) {
      assert.ok(!idle.includes(lazy), `${lazy} was loaded by an idle worker`)
    }
    // The operator's metrics port and interactive shells bring their packages with them.
    const withFeatures = await packagesLoadedWhenIdle({ metricsPort: await unusedPort(), enableInteractive: true, interactivePort: 0 })
    assert.ok(withFeatures.includes('ws'), 'interactive shells need ws')
    assert.ok(withFeatures.includes('prom-client'), 'the metrics port needs prom-client')
  })
})

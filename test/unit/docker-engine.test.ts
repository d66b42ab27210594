// The real engine the docker executor will run on: docker-up.sh starts it, the busybox test
// image is built locally, and dockerode drives a container end to end.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'

describe('Docker engine for tests', function () {
  before(function () {
    if (!dockerTestsEnabled()) this.skip()
  })

  it('runs a container from the locally built busybox image, with its output and exit code', async () => {
    const docker = await dockerForTests()
    const container = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['sh', '-c', 'echo hello from $(uname -s); exit 3'], Labels: { 'megalodon.test': '1' } })
    try {
      const out = new PassThrough()
      const chunks: Buffer[] = []
      out.on('data', (c: Buffer) => chunks.push(c))
      const stream = await container.attach({ stream: true, stdout: true, stderr: true })
      docker.modem.demuxStream(stream, out, out)
      const ended = once(stream, 'end')
      await container.start()
      const { StatusCode } = (await container.wait()) as { StatusCode: number }
      assert.equal(StatusCode, 3)
      await ended
      assert.match(Buffer.concat(chunks).toString(), /^hello from Linux$/m)
    } finally {
      await container.remove({ force: true })
    }
  })
})

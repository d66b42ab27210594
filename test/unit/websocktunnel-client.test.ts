// The websocktunnel client's connection rules (tools/websocktunnel/client/client.go, util/util.go),
// against test/helpers/fake-websocktunnel.ts: a server that cannot be reached is retried
// (shouldRetry, client.go:274-284: no response), a 401 is final (isAuthError, :286-291), and a
// token is fetched again only when it no longer holds (connectWithRetry :184-192,
// util.IsTokenUsable util.go:66-79).
import assert from 'node:assert/strict'
import net from 'node:net'
import { silentLogger } from '../../src/lib/logger.js'
import { tokenUsable, WebsocktunnelExposure } from '../../src/servers/websocktunnel.js'
import { FakeWebsocktunnel, signJwt } from '../helpers/fake-websocktunnel.js'

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })

const token = (secret: string, id: string, lifetimeSecs = 3600) => {
  const now = Math.floor(Date.now() / 1000)
  return signJwt({ tid: id, aud: 'fake-wst', nbf: now - 60, exp: now + lifetimeSecs }, secret)
}

describe('websocktunnel client (client.go connectWithRetry)', () => {
  const exposures: WebsocktunnelExposure[] = []
  const servers: FakeWebsocktunnel[] = []
  afterEach(async () => {
    for (const e of exposures.splice(0)) e.close()
    for (const s of servers.splice(0)) await s.stop()
  })
  const exposure = (serverUrl: string, fetchToken: (audience: string, id: string) => Promise<string>) => {
    const e = new WebsocktunnelExposure({ fetchToken, serverUrl, audience: 'fake-wst', workerGroup: 'wg', workerId: 'w1', targetPort: 9, logger: silentLogger(), retry: { initialDelayMs: 50, maxDelayMs: 200, maxElapsedMs: 10_000 } })
    exposures.push(e)
    return e
  }

  it('a server not yet listening is retried until it is, with the one token fetched (client.go:274-284)', async () => {
    const port = await freePort()
    const wst = new FakeWebsocktunnel()
    servers.push(wst)
    let fetched = 0
    const e = exposure(`http://127.0.0.1:${port}`, async (_aud, id) => (fetched++, token(wst.secret, id)))
    const url = e.url()
    await new Promise((r) => setTimeout(r, 300))
    await wst.start(port)
    assert.equal(await url, `http://127.0.0.1:${port}/wg.w1.9`)
    assert.equal(fetched, 1)
    assert.deepEqual(wst.registrations.map((r) => r.status), [101])
  })

  it('a 401 is final: no retry (client.go:286-291)', async () => {
    const wst = await new FakeWebsocktunnel().start()
    servers.push(wst)
    const e = exposure(wst.url, async (_aud, id) => token('not-the-secret', id))
    await assert.rejects(e.url(), /refused the token \(401\)/)
    assert.deepEqual(wst.registrations.map((r) => r.status), [401])
  })

  it('a token is usable while its exp and nbf hold (util.go:66-79)', () => {
    assert.equal(tokenUsable(token('s', 'x')), true)
    assert.equal(tokenUsable(token('s', 'x', -10)), false)
    const now = Math.floor(Date.now() / 1000)
    assert.equal(tokenUsable(signJwt({ nbf: now + 600, exp: now + 3600 }, 's')), false)
    assert.equal(tokenUsable('not a jwt'), false)
    assert.equal(tokenUsable(undefined), false)
  })
})

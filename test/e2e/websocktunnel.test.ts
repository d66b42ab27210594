// Live logs and shells through websocktunnel, as generic-worker exposes them when wstServerURL
// and wstAudience are set (main.go:342-358, expose/wst.go): a token from auth.websocktunnelToken
// for `<workerGroup>.<workerId>.<port>`, the tunnel's client URL in the artifact, every request
// carried over wsmux to the local server (expose/portforward.go), and a new session after the
// server drops one (client.go reconnect). The server is test/helpers/fake-websocktunnel.ts, or,
// with WEBSOCKTUNNEL_SERVER="<url> <secret> <audience>", a real one (upstream's wsproxy, e.g.
// built from ../shared/upstream's source), which the fake must agree with; the checks that need
// the fake's own records (registrations, dropped sessions) run against the fake only.
import assert from 'node:assert/strict'
import { slugid } from 'taskcluster-client'
import { FakeQueue, WORKER } from '../helpers/fake-queue/index.js'
import { FakeWebsocktunnel, type Registration } from '../helpers/fake-websocktunnel.js'
import { openShellPage, shellPageOf } from '../helpers/shell-client.js'
import { backingLog, until } from '../helpers/tasks.js'
import { runWorker, TEST_WORKER_ID } from '../helpers/worker.js'

const real = process.env.WEBSOCKTUNNEL_SERVER?.split(' ')

describe(`websocktunnel (wstServerURL, wstAudience)${real ? `, against ${real[0]}` : ''}`, function () {
  let fake: FakeQueue
  let wst: { url: string; secret: string; audience: string; registrations?: Registration[]; dropSessions?: () => void; stop?: () => Promise<void> }
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    wst = real ? { url: real[0]!, secret: real[1]!, audience: real[2]! } : await new FakeWebsocktunnel().start()
    fake.websocktunnelSecret = wst.secret
  })
  afterEach(async () => {
    await wst.stop?.()
    await fake.stop()
  })

  const grantTunnel = () => {
    // workerConfig (in runWorker) adds the worker client; the tunnel scope is added on top, as
    // expose/wst.go:8-10 asks of a worker's credentials
    const scopes = ['queue:claim-work:*', `queue:worker-id:test-worker-group/${TEST_WORKER_ID}`, `auth:websocktunnel-token:${wst.audience}/test-worker-group.${TEST_WORKER_ID}.*`]
    const original = fake.addWorker.bind(fake)
    fake.addWorker = (...args: Parameters<FakeQueue['addWorker']>) => {
      original(...args)
      fake.auth.addClient(WORKER.clientId, WORKER.accessToken, scopes)
    }
  }

  it('publishes the live log at the tunnel’s URL and serves it through the tunnel, also after a reconnect', async () => {
    grantTunnel()
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'echo through the tunnel; sleep 3; echo still here']], maxRunTime: 30 } })
    const worker = runWorker(fake, { idleTimeoutSecs: 3, wstServerURL: wst.url, wstAudience: wst.audience })
    await until(() => fake.state.tasks.get(taskId)?.artifacts[0]?.get('public/logs/live.log')?.storageType === 'reference')
    const url = fake.artifacts(taskId).get('public/logs/live.log')!.url!
    // <client url>/log/<token>, the client id naming this worker and the live log server's port
    assert.match(url, new RegExp(`^${wst.url}/test-worker-group\\.${TEST_WORKER_ID}\\.\\d+/log/[A-Za-z0-9_-]{32}$`))
    if (wst.registrations) assert.deepEqual(wst.registrations.map((r) => r.status), [101])
    assert.deepEqual(fake.requests.filter((r) => r.method === 'websocktunnelToken').map((r) => r.status), [200])
    const first = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      async (r) => ({ status: r.status, start: await readUntil(r, /through the tunnel/) }),
      (err: unknown) => ({ status: 0, start: String(err) }),
    )
    assert.equal(first.status, 200)
    assert.match(first.start, /through the tunnel/)

    // the server drops the session: the client registers again, with its still valid token
    if (wst.dropSessions && wst.registrations) {
      wst.dropSessions()
      await until(() => wst.registrations!.length === 2)
      assert.deepEqual(wst.registrations.map((r) => r.status), [101, 101])
      assert.equal(fake.requests.filter((r) => r.method === 'websocktunnelToken').length, 1)
      const again = await fetch(url, { signal: AbortSignal.timeout(2000) })
      assert.equal(again.status, 200)
      assert.match(await readUntil(again, /through the tunnel/), /through the tunnel/)
    }
    await fake.waitForResolution(taskId)
    assert.equal(fake.status(taskId).runs[0]!.state, 'completed')
    assert.match(backingLog(fake, taskId), /still here/)
    assert.equal((await worker).exitCode, 68)
  })

  it('an interactive shell’s socket is the tunnel URL as ws, and a session types and reads through it (interactive_feature.go:142-157)', async () => {
    grantTunnel()
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['sh', '-c', 'while [ ! -f done ]; do sleep 0.1; done']], maxRunTime: 60, features: { interactive: true } } })
    const worker = runWorker(fake, { numberOfTasksToRun: 1, enableInteractive: true, wstServerURL: wst.url, wstAudience: wst.audience })
    await until(() => shellPageOf(fake, taskId, 'private/generic-worker/shell.html') !== undefined)
    const socketUrl = shellPageOf(fake, taskId, 'private/generic-worker/shell.html')!.get('socketUrl')!
    assert.match(socketUrl, new RegExp(`^${wst.url.replace(/^http/, 'ws')}/test-worker-group\\.${TEST_WORKER_ID}\\.\\d+/shell/[A-Za-z0-9_-]+$`))
    const shell = await openShellPage(fake.artifacts(taskId).get('private/generic-worker/shell.html')!.url!, { width: 90, height: 20 })
    shell.type('stty size; echo "tunnelled-$((6*7))"; touch done\r')
    await until(() => /tunnelled-42/.test(shell.output))
    assert.match(shell.output, /^20 90\r?$/m)
    assert.equal((await worker).exitCode, 0)
    assert.equal(fake.status(taskId).runs[0]!.state, 'completed')
  })

  it('without the token scope the live log is a warning in the task log, and the task still completes', async () => {
    const taskId = slugid()
    await fake.createTask(taskId, { payload: { command: [['true']], maxRunTime: 30 } })
    const worker = runWorker(fake, { idleTimeoutSecs: 2, wstServerURL: wst.url, wstAudience: wst.audience })
    await fake.waitForResolution(taskId)
    assert.equal(fake.status(taskId).runs[0]!.state, 'completed')
    assert.match(backingLog(fake, taskId), /The live log is not available for this task: .*auth:websocktunnel-token/)
    if (wst.registrations) assert.deepEqual(wst.registrations, [])
    await worker
  })
})

/** Reads a streaming response until `pattern` shows, then stops. */
async function readUntil(res: Response, pattern: RegExp): Promise<string> {
  const reader = res.body!.getReader()
  let text = ''
  try {
    while (!pattern.test(text)) {
      const { value, done } = await reader.read()
      if (done) break
      text += Buffer.from(value).toString('utf8')
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return text
}

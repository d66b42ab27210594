// taskcluster-proxy as generic-worker runs it: the URL, the authorized scopes, the routes and
// headers of upstream's proxy (tools/taskcluster-proxy/routes.go), retries, ports per task.
import assert from 'node:assert/strict'
import net from 'node:net'
import { execFileSync } from 'node:child_process'
import { routeOf, targetUrl } from '../../features/taskcluster-proxy-routes.js'
import { inSubnet, taskNetworkName } from '../../features/docker-bridge.js'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { listen } from '../../src/servers/listen.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'
import { runWorker } from '../helpers/worker.js'
import { slugid } from 'taskcluster-client'

/** A node command that calls the proxy and prints `<tag> <status> <headers JSON> <body>`. */
const call = (tag: string, pathExpr: string, init = '{}') => [
  process.execPath,
  '-e',
  `fetch(process.env.TASKCLUSTER_PROXY_URL + ${pathExpr}, ${init}).then(async (r) => console.log('${tag} ' + r.status + ' ' + JSON.stringify(Object.fromEntries(r.headers)) + ' ' + JSON.stringify(await r.text())))`,
]
function answer(log: string, tag: string): { status: number; headers: Record<string, string>; body: string } {
  const m = new RegExp(`^${tag} (\\d+) (\\{.*\\}) (".*")$`, 'm').exec(log)
  assert.ok(m, `no ${tag} line in ${log}`)
  return { status: Number(m[1]), headers: JSON.parse(m[2]!) as Record<string, string>, body: JSON.parse(m[3]!) as string }
}
async function freePort(): Promise<number> {
  const s = net.createServer()
  const port = await listen(s, '127.0.0.1', 0)
  await new Promise((r) => s.close(r))
  return port
}

describe('taskcluster-proxy as generic-worker runs it', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('TASKCLUSTER_PROXY_URL is http://127.0.0.1:<port>, and a task without scopes may create its own artifacts (taskcluster_proxy_feature.go:166-176,230-233)', async () => {
    const expires = new Date(Date.now() + 3600_000).toISOString()
    const body = JSON.stringify({ storageType: 'reference', url: 'https://example.com/x', expires, contentType: 'text/plain' })
    const o = await submitAndRun(fake, {
      command: [['sh', '-c', 'echo "URL=$TASKCLUSTER_PROXY_URL"'], call('MADE', '"/api/queue/v1/task/" + process.env.TASK_ID + "/runs/" + process.env.RUN_ID + "/artifacts/public/by-the-task"', `{ method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(body)} }`)],
      maxRunTime: 60,
      features: { taskclusterProxy: true },
    })
    assert.equal(o.state, 'completed', o.log)
    assert.match(o.log, /^URL=http:\/\/127\.0\.0\.1:\d+$/m)
    const made = answer(o.log, 'MADE')
    assert.equal(made.status, 200, made.body)
    assert.equal(fake.artifacts(o.taskId).get('public/by-the-task')?.url, 'https://example.com/x')
    // routes.go:54-84 and 221: who signed, with which scopes, sent where
    assert.deepEqual(JSON.parse(made.headers['x-taskcluster-authorized-scopes']!), [`queue:create-artifact:${o.taskId}/0`])
    // task credentials are temporary: their client id and the certificate's scopes
    assert.match(made.headers['x-taskcluster-proxy-temp-clientid']!, new RegExp(`^task-client/${o.taskId}/0/`))
    assert.ok((JSON.parse(made.headers['x-taskcluster-proxy-temp-scopes']!) as string[]).includes(`queue:create-artifact:${o.taskId}/0`))
    assert.equal(made.headers['x-taskcluster-proxy-perm-clientid'], undefined)
    assert.match(made.headers['x-taskcluster-endpoint']!, new RegExp(`/api/queue/v1/task/${o.taskId}/runs/0/artifacts/public/by-the-task$`))
    assert.ok('x-taskcluster-proxy-version' in made.headers && 'x-taskcluster-proxy-revision' in made.headers)
  })

  it('retries 5xx answers and passes 4xx back at once (routes.go:261-291)', async () => {
    fake.injectFault({ method: 'task', status: 500, times: 2 })
    const o = await submitAndRun(fake, { command: [call('OWN', '"/api/queue/v1/task/" + process.env.TASK_ID'), call('NONE', '"/api/queue/v1/task/" + "' + slugid() + '"')], maxRunTime: 60, features: { taskclusterProxy: true } }, { task: { scopes: ['queue:get-task:*'] } })
    assert.equal(o.state, 'completed', o.log)
    assert.equal(answer(o.log, 'OWN').status, 200)
    assert.equal(answer(o.log, 'NONE').status, 404)
    const own = fake.requests.filter((r) => r.method === 'task' && r.params[0] === o.taskId).map((r) => r.status)
    assert.deepEqual(own, [500, 500, 200])
    assert.equal(fake.requests.filter((r) => r.method === 'task' && r.status === 404).length, 1)
  })

  it('/credentials: PUT answers 200 with no body, a body that does not decode 400, any other method 405 (routes.go:137-161)', async () => {
    const o = await submitAndRun(fake, {
      command: [call('GET', '"/credentials"'), call('BAD', '"/credentials"', `{ method: 'PUT', body: 'not json' }`), call('PUT', '"/credentials"', `{ method: 'PUT', body: JSON.stringify({ clientId: 'c', accessToken: 't' }) }`), call('AFTER', '"/credentials"')],
      maxRunTime: 60,
      features: { taskclusterProxy: true },
    })
    assert.equal(o.state, 'completed', o.log)
    assert.deepEqual([answer(o.log, 'GET').status, answer(o.log, 'BAD').status], [405, 400])
    const put = answer(o.log, 'PUT')
    assert.deepEqual([put.status, put.body], [200, ''])
    // the headers are set before the update (routes.go:138), so the next answer names the new, permanent client
    assert.match(put.headers['x-taskcluster-proxy-temp-clientid']!, /^task-client\//)
    assert.equal(answer(o.log, 'AFTER').headers['x-taskcluster-proxy-perm-clientid'], 'c')
  })

  it('a port the proxy cannot listen on resolves the task exception/internal-error (taskcluster_proxy_feature.go:226-227)', async () => {
    const holder = net.createServer()
    const port = await listen(holder, '127.0.0.1', 0)
    try {
      const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 60, features: { taskclusterProxy: true } }, { config: { taskclusterProxyPort: port } })
      assert.deepEqual([o.state, o.reason], ['exception', 'internal-error'], o.log)
      assert.match(o.log, new RegExp(`could not start taskcluster proxy on port ${port}: .*EADDRINUSE`))
    } finally {
      await new Promise((r) => holder.close(r))
    }
  })

  it('gives concurrent tasks taskclusterProxyPort + slot*4 (port_manager.go:56-83)', async () => {
    let base = await freePort()
    while (base > 65000) base = await freePort()
    const flag = `/tmp/megalodon-proxy-slot-${slugid()}`
    const first = slugid()
    const second = slugid()
    // each task marks that it runs and waits for the other's mark, so both hold their proxies at
    // once whichever the worker starts first (a task that waited for the other only could see the
    // other already done, its slot free again)
    const meetAt = (mine: string, theirs: string) => ({
      command: [['sh', '-c', `echo "URL=$TASKCLUSTER_PROXY_URL"; touch ${flag}-${mine}; while [ ! -e ${flag}-${theirs} ]; do sleep 0.05; done`]],
      maxRunTime: 60,
      features: { taskclusterProxy: true },
    })
    await fake.createTask(first, { payload: meetAt('a', 'b') })
    await fake.createTask(second, { payload: meetAt('b', 'a') })
    await runWorker(fake, { numberOfTasksToRun: 2, capacity: 2, taskclusterProxyPort: base })
    const urls = [first, second].map((t) => /^URL=(.*)$/m.exec(fake.artifacts(t).get('public/logs/live_backing.log')!.content!.toString())?.[1])
    assert.deepEqual(urls.sort(), [`http://127.0.0.1:${base}`, `http://127.0.0.1:${base + 4}`])
  })

  it('routes by prefix and maps paths to the deployment as upstream’s services_test.go and routes.go do', () => {
    assert.deepEqual(['/bewit', '/bewitx', '/credentials/x', '/api', '/apix', '/queue/v1/x'].map(routeOf), ['bewit', 'bewit', 'credentials', 'api', 'api', 'root'])
    const root = 'https://tc.example.com'
    assert.deepEqual(targetUrl(root, '/queue/v1/y/z'), { url: 'https://tc.example.com/api/queue/v1/y/z' })
    assert.deepEqual(targetUrl(root, '/aws-provisioner/v1/y/z'), { url: 'https://tc.example.com/api/aws-provisioner/v1/y/z' })
    assert.deepEqual(targetUrl(root, '/queue/v1/y%2fz'), { url: 'https://tc.example.com/api/queue/v1/y%2fz' })
    assert.deepEqual(targetUrl(`${root}/`, '/api/queue/v1/task/X?a=1'), { url: 'https://tc.example.com/api/queue/v1/task/X?a=1' })
    assert.deepEqual(targetUrl(root, '/api/any_Service/anyversion/p'), { url: 'https://tc.example.com/api/any_Service/anyversion/p' })
    assert.deepEqual(targetUrl(root, '/api/queue'), { notFound: 'invalid /api path' })
    assert.match((targetUrl(root, '/bad_service/v1/x') as { notFound: string }).notFound, /^Unkown taskcluster service: bad_service is not a valid taskcluster service$/)
    assert.ok('notFound' in targetUrl(root, '/evil.example.com/steal'), 'only the deployment is proxied')
  })
})

describe('taskcluster-proxy on a Docker network of the task’s own (taskclusterProxyInterface: docker-bridge, real engine)', function () {
  let fake: FakeQueue
  before(async function () {
    if (!dockerTestsEnabled()) this.skip()
    await dockerForTests()
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('creates gw-task-<taskId[:12]>-<runId>, binds the proxy to its gateway, exports TASKCLUSTER_DOCKER_NETWORK/_PROXY_GATEWAY, removes it after (taskcluster_proxy_feature.go:108-159)', async () => {
    const script = [
      'echo "net=$TASKCLUSTER_DOCKER_NETWORK gw=$TASKCLUSTER_PROXY_GATEWAY url=$TASKCLUSTER_PROXY_URL"',
      `docker run --rm --network "$TASKCLUSTER_DOCKER_NETWORK" ${BUSYBOX_IMAGE} wget -qO- "$TASKCLUSTER_PROXY_URL/api/queue/v1/task/$TASK_ID" > def.json && echo "GOT $(head -c 200 def.json)"`,
    ].join('; ')
    const o = await submitAndRun(fake, { command: [['sh', '-c', script]], maxRunTime: 120, features: { taskclusterProxy: true }, taskclusterProxyInterface: 'docker-bridge' }, { task: { scopes: ['queue:get-task:*'] } })
    assert.equal(o.state, 'completed', o.log)
    const m = /^net=(\S+) gw=(\S+) url=(\S+)$/m.exec(o.log)
    assert.ok(m, o.log)
    assert.equal(m[1], taskNetworkName(o.taskId, 0))
    assert.match(m[3]!, new RegExp(`^http://${m[2]!.replace(/\./g, '\\.')}:\\d+$`))
    assert.match(o.log, /^GOT \{/m)
    const left = execFileSync('docker', ['network', 'ls', '--filter', `name=${m[1]}`, '--format', '{{.Name}}'], { encoding: 'utf8' }).trim()
    assert.equal(left, '', 'the network was removed')
  })

  it('names networks and tests subnets as upstream', () => {
    assert.equal(taskNetworkName('abcdefghijklmnopqrstuv', 3), 'gw-task-abcdefghijkl-3')
    assert.ok(inSubnet('172.18.0.2', '172.18.0.0/16'))
    assert.ok(inSubnet('::ffff:172.18.5.9', '172.18.0.0/16'))
    assert.ok(!inSubnet('172.19.0.2', '172.18.0.0/16'))
    assert.ok(!inSubnet('127.0.0.1', '172.18.0.0/16'))
  })
})


// taskcluster-proxy: a task calls Taskcluster APIs through $TASKCLUSTER_PROXY_URL with the run's
// task credentials, restricted to the task's scopes, with credentials swapped on reclaim.
import assert from 'node:assert/strict'
import { hawkExt } from '../../features/taskcluster-proxy.js'
import type Docker from 'dockerode'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

/** A command that fetches a proxy path and prints the status and body (node is on PATH in tests). */
const fetchCmd = (pathExpr: string, init = '{}') => [
  process.execPath,
  '-e',
  `fetch(process.env.TASKCLUSTER_PROXY_URL + ${pathExpr}, ${init}).then(async (r) => console.log('STATUS ' + r.status + ' ' + (await r.text())))`,
]

describe('taskcluster-proxy', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  it('lets the task read its own definition, and refuses calls outside the task’s scopes', async () => {
    const o = await submitAndRun(
      fake,
      {
        command: [fetchCmd('"/api/queue/v1/task/" + process.env.TASK_ID'), fetchCmd('"/queue/v1/task/" + process.env.TASK_ID'), fetchCmd('"/api/queue/v1/task/" + process.env.TASK_ID + "/status"')],
        maxRunTime: 60,
        features: { taskclusterProxy: true },
      },
      { task: { scopes: ['queue:get-task:*'] } },
    )
    assert.equal(o.state, 'completed', o.log)
    const statuses = [...o.log.matchAll(/^STATUS (\d+) (.*)$/gm)].map((m) => [m[1], m[2]])
    assert.equal(statuses.length, 3)
    assert.equal(statuses[0]![0], '200')
    assert.equal((JSON.parse(statuses[0]![1]!) as { payload: { features: unknown } }).payload.features !== undefined, true, 'its own definition')
    assert.equal(statuses[1]![0], '200', 'the legacy /<service>/v1/ form works too')
    assert.equal(statuses[2]![0], '403', 'queue:status is not among the task’s scopes')
    assert.match(statuses[2]![1]!, /InsufficientScopes/)
    const proxied = fake.requests.filter((r) => (r.method === 'task' || r.method === 'status') && r.params[0] === o.taskId)
    assert.ok(proxied.every((r) => r.clientId.startsWith(`task-client/${o.taskId}/0/`)), 'signed with the task credentials')
  })

  it('uses the credentials of the latest reclaim', async () => {
    fake.claimTimeoutSecs = 2 // reclaims every second
    const o = await submitAndRun(fake, { command: [['sleep', '2.5'], fetchCmd('"/api/queue/v1/task/" + process.env.TASK_ID')], maxRunTime: 60, features: { taskclusterProxy: true } }, { task: { scopes: ['queue:get-task:*'] } })
    assert.equal(o.state, 'completed', o.log)
    assert.match(o.log, /^STATUS 200 /m)
    const mine = fake.requests.filter((r) => r.params[0] === o.taskId)
    const proxied = mine.find((r) => r.method === 'task')!
    // the first reclaim is signed with the claim's credentials
    const firstCreds = mine.find((r) => r.method === 'reclaimTask')!.clientId
    assert.notEqual(proxied.clientId, firstCreds, 'not the credentials of the first claim')
    assert.ok(mine.filter((r) => r.method === 'reclaimTask').length >= 2)
    // one line per reclaim while the proxy serves, naming the new credentials' clientId
    // (taskcluster_proxy_feature.go:285)
    const refreshed = [...o.log.matchAll(/^\[taskcluster \S+Z\] \[taskcluster-proxy\] Successfully refreshed taskcluster-proxy credentials: (\S+)$/gm)].map((m) => m[1]!)
    assert.ok(refreshed.length >= 2, o.log)
    assert.ok(refreshed.every((id) => id.startsWith(`task-client/${o.taskId}/0/`)), o.log)
    assert.equal(new Set(refreshed).size, refreshed.length, 'each reclaim brings its own credentials')
    assert.ok(refreshed.includes(proxied.clientId), 'the proxy signed with credentials the log announced')
  })

  it('writes no refresh line for a task without the proxy', async () => {
    fake.claimTimeoutSecs = 2
    const o = await submitAndRun(fake, { command: [['sleep', '2.5']], maxRunTime: 60 })
    assert.equal(o.state, 'completed', o.log)
    assert.ok(fake.requests.some((r) => r.method === 'reclaimTask' && r.params[0] === o.taskId))
    assert.doesNotMatch(o.log, /Successfully refreshed/)
  })

  it('signs URLs on POST /bewit', async () => {
    const o = await submitAndRun(
      fake,
      {
        command: [[process.execPath, '-e', `fetch(process.env.TASKCLUSTER_PROXY_URL + '/bewit', { method: 'POST', body: process.env.TASKCLUSTER_ROOT_URL + '/api/queue/v1/task/' + process.env.TASK_ID, redirect: 'manual' }).then(async (r) => { const url = r.headers.get('location'); const t = await fetch(url); console.log('BEWIT ' + t.status) })`]],
        maxRunTime: 60,
        features: { taskclusterProxy: true },
      },
      { task: { scopes: ['queue:get-task:*'] } },
    )
    assert.match(o.log, /^BEWIT 200$/m, o.log)
  })

  it('takes replacement credentials on PUT /credentials, as upstream’s proxy does', async () => {
    const put = `fetch(process.env.TASKCLUSTER_PROXY_URL + '/credentials', { method: 'PUT', body: JSON.stringify({ clientId: 'nobody', accessToken: 'not-a-token' }) }).then(async (r) => console.log('PUT ' + r.status))`
    const o = await submitAndRun(
      fake,
      { command: [fetchCmd('"/api/queue/v1/task/" + process.env.TASK_ID'), [process.execPath, '-e', put], fetchCmd('"/api/queue/v1/task/" + process.env.TASK_ID')], maxRunTime: 60, features: { taskclusterProxy: true } },
      { task: { scopes: ['queue:get-task:*'] } },
    )
    assert.equal(o.state, 'completed', o.log)
    assert.match(o.log, /^PUT 200$/m)
    const statuses = [...o.log.matchAll(/^STATUS (\d+) /gm)].map((m) => m[1])
    assert.deepEqual(statuses, ['200', '401'], 'the second call was signed with the replaced (unknown) client')
  })

  it('is refused with a clear message when the worker does not offer it', async () => {
    const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 60, features: { taskclusterProxy: true } }, { config: { enableTaskclusterProxy: false } })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'])
    assert.match(o.log, /\[taskcluster:error\] this task is attempting to use feature "Taskcluster Proxy", but it's not enabled on this worker pool \(test-provisioner\/test-worker-type\)\n/)
  })

  it('is off unless asked for', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'echo "proxy=${TASKCLUSTER_PROXY_URL:-none}"']], maxRunTime: 60 })
    assert.match(o.log, /^proxy=none$/m)
  })

  it('builds Hawk ext as taskcluster-client does (paths: taskcluster-proxy-upstream.test.ts)', () => {
    const ext = JSON.parse(Buffer.from(hawkExt({ clientId: 'c', accessToken: 't', certificate: '{"version":1}' }, ['a:b'])!, 'base64').toString()) as unknown
    assert.deepEqual(ext, { certificate: { version: 1 }, authorizedScopes: ['a:b'] })
  })
})

describe('taskcluster-proxy for docker tasks (real engine)', function () {
  let fake: FakeQueue
  let docker: Docker
  before(async function () {
    if (!dockerTestsEnabled()) this.skip()
    docker = await dockerForTests()
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('serves http://taskcluster inside the container, limited to the task’s scopes, on a network of the task’s own', async () => {
    const script = [
      'echo "url=$TASKCLUSTER_PROXY_URL"',
      'wget -qO- "$TASKCLUSTER_PROXY_URL/api/queue/v1/task/$TASK_ID" > /tmp/def.json && echo "GOT $(cat /tmp/def.json)"',
      'wget -qO- "$TASKCLUSTER_PROXY_URL/queue/v1/task/$TASK_ID/status" || echo "STATUS REFUSED"',
    ].join('; ')
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['sh', '-c', script], maxRunTime: 60, features: { taskclusterProxy: true } }, { task: { scopes: ['queue:get-task:*'] } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.match(o.log, /^url=http:\/\/taskcluster\r?$/m)
    const got = /^GOT (.*?)\r?$/m.exec(o.log)
    assert.ok(got, o.log)
    assert.equal((JSON.parse(got[1]!) as { payload: { image: string } }).payload.image, BUSYBOX_IMAGE, 'its own definition')
    assert.match(o.log, /403 Forbidden/)
    assert.match(o.log, /^STATUS REFUSED\r?$/m)
    const proxied = fake.requests.filter((r) => r.method === 'task' && r.params[0] === o.taskId)
    assert.ok(proxied.length === 1 && proxied[0]!.clientId.startsWith(`task-client/${o.taskId}/0/`), 'signed with the task credentials')
    const left = await docker.listNetworks({ filters: JSON.stringify({ label: [`megalodon.task=${o.taskId}-0`] }) })
    assert.equal(left.length, 0, 'the task network was removed')
  })

  it('writes nothing in the task log when a reclaim refreshes its credentials: docker-worker logged that only on its own log (src/features/taskcluster_proxy.js:89-110)', async () => {
    fake.claimTimeoutSecs = 2
    const script = 'sleep 2.5; wget -qO- "$TASKCLUSTER_PROXY_URL/api/queue/v1/task/$TASK_ID" > /dev/null && echo FETCHED'
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['sh', '-c', script], maxRunTime: 60, features: { taskclusterProxy: true } }, { task: { scopes: ['queue:get-task:*'] } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.match(o.log, /^FETCHED\r?$/m)
    assert.ok(fake.requests.some((r) => r.method === 'reclaimTask' && r.params[0] === o.taskId))
    assert.doesNotMatch(o.log, /refreshed|Credentials updated/)
  })

  it('lets the payload’s env override TASKCLUSTER_PROXY_URL, but not TASK_ID (docker-worker src/task.js:354-361)', async () => {
    const script = 'echo "url=$TASKCLUSTER_PROXY_URL task=$TASK_ID"'
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['sh', '-c', script], maxRunTime: 60, env: { TASKCLUSTER_PROXY_URL: 'http://mine', TASK_ID: 'forged' }, features: { taskclusterProxy: true } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.match(o.log, new RegExp(`^url=http://mine task=${o.taskId}\\r?$`, 'm'))
  })

  it('is refused as docker-worker refused a disabled feature (failed) when the worker does not offer it', async () => {
    const o = await submitAndRun(fake, { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60, features: { taskclusterProxy: true } }, { config: { enableTaskclusterProxy: false } })
    assert.equal(o.state, 'failed', o.log)
    // refused while the features are built, before anything runs (src/task.js:69-73)
    assert.match(o.log, /\[taskcluster:error\] Error: taskclusterProxy is not enabled on this worker\n/)
  })
})

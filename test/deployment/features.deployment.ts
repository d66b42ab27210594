// Features against the real services: taskcluster-proxy signing a task's calls to the real
// Queue and Auth, mounts from a dependency's artifact and from the Index (the index-handlers
// index a routed task from the Queue's pulse message), writable caches and purge-cache, and
// a worker with capacity > 1.
import assert from 'node:assert/strict'
import taskcluster from 'taskcluster-client'
import { deploymentEnv } from './deployment-env.js'
import { recordingLogger } from '../helpers/recording-logger.js'
import { reportCrashToSentry } from '../../src/worker/sentry.js'
import { createTask, download, runTask, startWorker, status, tail, waitForStatus, runResolved, type TaskStatus } from './harness.js'

interface IndexClient {
  findTask(namespace: string): Promise<{ taskId: string }>
}
interface PurgeCacheClient {
  purgeCache(workerPoolId: string, body: { cacheName: string }): Promise<unknown>
  purgeRequests(workerPoolId: string): Promise<{ requests: Array<{ cacheName: string; before: string }> }>
}

describe('deployment: features', function () {
  // sentry.go:14-19 against the real Auth service: without the scope 403, and a deployment with
  // no Sentry organisation configured answers 404 `Sentry credentials not found`
  // (services/auth/src/sentry.js); either way a warning, and the crash report ends there
  it('a crash report asks auth.sentryDSN and, refused, logs sentry.go’s warning', async () => {
    const env = deploymentEnv()
    for (const [credentials, expected] of [
      [env.worker, /^WARNING: Could not get sentry DSN: .*(auth:sentry:generic-worker|InsufficientScopes|sufficient scopes)/s],
      [env.creator, /^WARNING: Could not get sentry DSN: .*(Sentry credentials not found|ResourceNotFound)/s],
    ] as const) {
      const { logger, lines } = recordingLogger()
      await reportCrashToSentry(new Error('deployment probe'), { rootUrl: env.rootUrl, credentials, project: 'generic-worker', tags: {}, logger })
      assert.equal(lines.length, 1, lines.join('\n'))
      assert.match(lines[0]!, expected)
    }
  })

  it('taskcluster-proxy: the task reads its own definition from the Queue and its scopes from Auth', async () => {
    const o = await runTask(
      {
        payload: {
          command: [['sh', '-c', 'curl -sSf "$TASKCLUSTER_PROXY_URL/api/queue/v1/task/$TASK_ID" > task.json && curl -sSf "$TASKCLUSTER_PROXY_URL/api/auth/v1/scopes/current" > scopes.json']],
          maxRunTime: 60,
          features: { taskclusterProxy: true },
          artifacts: [
            { type: 'file', path: 'task.json', name: 'public/task.json' },
            { type: 'file', path: 'scopes.json', name: 'public/scopes.json' },
          ],
        },
        scopes: ['queue:get-task:*', 'auth:current-scopes-probe'],
      },
      { enableTaskclusterProxy: true },
    )
    assert.deepEqual([o.run.state, o.run.reasonResolved], ['completed', 'completed'], tail(o.worker.output))
    const task = JSON.parse((await download(o.taskId, 0, 'public/task.json', null)).body.toString()) as { metadata: { name: string }; scopes: string[] }
    assert.equal(task.metadata.name, 'megalodon deployment test')
    const { scopes } = JSON.parse((await download(o.taskId, 0, 'public/scopes.json', null)).body.toString()) as { scopes: string[] }
    assert.ok(scopes.includes('auth:current-scopes-probe'), `the proxy signs with the task's credentials: ${scopes.join(' ')}`)
  })

  it('mounts a dependency’s artifact and an indexed task’s artifact (Queue → pulse → Index)', async () => {
    const namespace = `megalodon-test.deploy.${taskcluster.slugid().replace(/[^a-zA-Z0-9]/g, '')}`
    const producer = await runTask({
      payload: { command: [['sh', '-c', 'echo produced > a.txt']], maxRunTime: 60, artifacts: [{ type: 'file', path: 'a.txt', name: 'public/a.txt' }] },
      routes: [`index.${namespace}`],
    })
    assert.deepEqual([producer.run.state, producer.run.reasonResolved], ['completed', 'completed'], tail(producer.worker.output))
    const index = new taskcluster.Index({ rootUrl: deploymentEnv().rootUrl }) as unknown as IndexClient
    const end = Date.now() + 60_000
    for (;;) {
      const found = await index.findTask(namespace).catch(() => undefined)
      if (found) {
        assert.equal(found.taskId, producer.taskId)
        break
      }
      if (Date.now() > end) throw new Error(`${namespace} was never indexed`)
      await new Promise((r) => setTimeout(r, 500))
    }
    const consumer = await runTask({
      payload: {
        command: [['sh', '-c', 'cat dep.txt idx.txt > both.txt']],
        maxRunTime: 60,
        mounts: [
          { file: 'dep.txt', content: { taskId: producer.taskId, artifact: 'public/a.txt' } },
          { file: 'idx.txt', content: { namespace, artifact: 'public/a.txt' } },
        ],
        artifacts: [{ type: 'file', path: 'both.txt', name: 'public/both.txt' }],
      },
      dependencies: [producer.taskId],
    })
    assert.deepEqual([consumer.run.state, consumer.run.reasonResolved], ['completed', 'completed'], tail(consumer.worker.output))
    assert.equal((await download(consumer.taskId, 0, 'public/both.txt', null)).body.toString(), 'produced\nproduced\n')
  })

  it('keeps a writable cache between tasks, and empties it after purge-cache', async () => {
    const cacheName = `deploy-${Date.now().toString(36)}`
    const cacheTask = (script: string) => ({
      payload: { command: [['sh', '-c', script]], maxRunTime: 60, mounts: [{ cacheName, directory: 'cache' }], artifacts: [{ type: 'file', path: 'seen.txt', name: 'public/seen.txt' }] },
      scopes: [`generic-worker:cache:${cacheName}`],
    })
    const step = 'ls cache > seen.txt; date +%s%N > "cache/$TASK_ID"'
    const worker = await startWorker({ numberOfTasksToRun: 3, idleTimeoutSecs: 120 })
    try {
      const first = await createTask(cacheTask(step))
      await waitForStatus(first, runResolved(0), 60_000)
      const second = await createTask(cacheTask(step))
      await waitForStatus(second, runResolved(0), 60_000)
      const purger = new taskcluster.PurgeCache({ rootUrl: deploymentEnv().rootUrl, credentials: deploymentEnv().creator }) as unknown as PurgeCacheClient
      await purger.purgeCache(deploymentEnv().workerPoolId, { cacheName })
      // the service answers purgeRequests from a per-pool cache up to 10 s old
      // (services/purge-cache/src/api.js:142-148): wait until the request is served
      const end = Date.now() + 60_000
      while (!(await purger.purgeRequests(deploymentEnv().workerPoolId)).requests.some((r) => r.cacheName === cacheName)) {
        if (Date.now() > end) throw new Error('the purge request was never listed')
        await new Promise((r) => setTimeout(r, 500))
      }
      const third = await createTask(cacheTask(step))
      await waitForStatus(third, runResolved(0), 60_000)
      const seen = async (taskId: string) => (await download(taskId, 0, 'public/seen.txt', null)).body.toString().split('\n').filter(Boolean)
      assert.deepEqual(await seen(first), [], 'a new cache is empty')
      assert.deepEqual(await seen(second), [first], 'the second task sees what the first left')
      assert.deepEqual(await seen(third), [], 'after purge-cache the cache starts empty again')
      for (const t of [first, second, third]) assert.equal((await status(t)).runs[0]!.state, 'completed')
    } finally {
      await worker.exited
    }
  })

  it('runs three tasks at once with capacity 3', async () => {
    // each task waits until all three have started (a file each in a directory they share)
    const rendezvous = `/tmp/megalodon-deploy-rendezvous-${process.pid}-${Date.now()}`
    const script = `mkdir -p ${rendezvous} && touch ${rendezvous}/$TASK_ID && i=0; while [ "$(ls ${rendezvous} | wc -l)" -lt 3 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; ls ${rendezvous} | wc -l > n.txt`
    const ids = await Promise.all([0, 1, 2].map(() => createTask({ payload: { command: [['sh', '-c', script]], maxRunTime: 120, artifacts: [{ type: 'file', path: 'n.txt', name: 'public/n.txt' }] } })))
    const worker = await startWorker({ capacity: 3, numberOfTasksToRun: 3 })
    const exit = await worker.exited
    assert.equal(exit.code, 0, tail(await worker.output()))
    const statuses: TaskStatus[] = await Promise.all(ids.map((id) => status(id)))
    for (const s of statuses) assert.deepEqual([s.runs[0]!.state, s.runs[0]!.reasonResolved], ['completed', 'completed'])
    for (const id of ids) assert.equal((await download(id, 0, 'public/n.txt', null)).body.toString().trim(), '3', 'all three ran at the same time')
  })
})

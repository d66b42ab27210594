// The retry helper the Taskcluster clients go through.
import assert from 'node:assert/strict'
import nock from 'nock'
import taskcluster from 'taskcluster-client'
import { withRetry } from '../../src/taskcluster/retry.js'

// nock intercepts every socket of the process from the moment it is imported (its interceptor
// even parses what raw clients write, and throws on the malformed requests the security tests
// send): active only while this suite runs.
nock.restore()

describe('retry helper', () => {
  const rootUrl = 'https://tc.retry.test'
  before(() => nock.activate())
  after(() => nock.restore())
  afterEach(() => nock.cleanAll())
  const queue = () => new taskcluster.Queue({ rootUrl, retries: 0, timeout: 2000, credentials: { clientId: 'c', accessToken: 't' } })

  it('retries 5xx until success', async () => {
    const scope = nock(rootUrl).post('/api/queue/v1/task/T/runs/0/completed').times(2).reply(500, {}).post('/api/queue/v1/task/T/runs/0/completed').reply(200, { status: {} })
    await withRetry(() => queue().reportCompleted('T', 0), { minDelayMs: 1, maxDelayMs: 5 })
    assert.ok(scope.isDone())
  })
  it('retries connection errors', async () => {
    const scope = nock(rootUrl).post('/api/queue/v1/task/T/runs/0/failed').replyWithError({ code: 'ECONNRESET' }).post('/api/queue/v1/task/T/runs/0/failed').reply(200, { status: {} })
    await withRetry(() => queue().reportFailed('T', 0), { minDelayMs: 1, maxDelayMs: 5 })
    assert.ok(scope.isDone())
  })
  it('never retries a 4xx', async () => {
    let calls = 0
    nock(rootUrl).post('/api/queue/v1/task/T/runs/0/reclaim').times(3).reply(() => (calls++, [409, { code: 'RequestConflict', message: 'no' }]))
    await assert.rejects(withRetry(() => queue().reclaimTask('T', 0), { minDelayMs: 1 }), (e: { statusCode: number }) => e.statusCode === 409)
    assert.equal(calls, 1)
  })
  it('gives up after the configured retries', async () => {
    nock(rootUrl).post('/api/queue/v1/task/T/runs/0/completed').times(3).reply(503, {})
    await assert.rejects(withRetry(() => queue().reportCompleted('T', 0), { retries: 2, minDelayMs: 1, maxDelayMs: 2 }), (e: { statusCode: number }) => e.statusCode === 503)
  })
})

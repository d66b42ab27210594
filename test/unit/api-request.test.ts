// src/taskcluster/api-request.ts makes the requests taskcluster-client made: the same URL, a Hawk
// header a Taskcluster service accepts (with the temporary credentials' certificate in `ext`),
// and errors carrying the status and the service's code. Checked against a server that
// authenticates with hawk's own server side, and against taskcluster-client's URL for the same call.
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Hawk from 'hawk'
import taskcluster from 'taskcluster-client'
import { apiRequest, apiUrl, TaskclusterApiError } from '../../src/taskcluster/api-request.js'

interface Seen { method: string; url: string; ext?: string; id?: string; body: string }

async function service(answer: (seen: Seen) => { status: number; body?: unknown }): Promise<{ rootUrl: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const entry: Seen = { method: req.method!, url: req.url!, body: Buffer.concat(chunks).toString() }
        if (req.headers.authorization) {
          const { credentials, artifacts } = (await Hawk.server.authenticate(req, (id: string) => ({ id, key: `key-of-${id}`, algorithm: 'sha256' }))) as { credentials: unknown; artifacts: { ext?: string } }
          entry.id = (credentials as { id: string }).id
          entry.ext = artifacts.ext
        }
        seen.push(entry)
        const { status, body } = answer(entry)
        res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }).end(body === undefined ? undefined : JSON.stringify(body))
      })().catch((err: unknown) => res.writeHead(401).end(String(err)))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const rootUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { rootUrl, seen, close: () => new Promise((r) => server.close(() => r())) }
}

describe('Taskcluster API requests without taskcluster-client', () => {
  it('builds the URL taskcluster-client builds for the same call, encoding route parameters', () => {
    const queue = new taskcluster.Queue({ rootUrl: 'https://tc.example.com/' }) as unknown as { buildUrl: (method: unknown, ...args: unknown[]) => string; createArtifact: unknown }
    const expected = queue.buildUrl(queue.createArtifact, 'T1', 0, 'public/logs/live backing.log')
    assert.equal(apiUrl('https://tc.example.com/', 'queue', 'v1', `/task/T1/runs/0/artifacts/${encodeURIComponent('public/logs/live backing.log')}`), expected)
  })

  it('signs with Hawk (sha256) and sends the certificate of temporary credentials in ext, as taskcluster-client does', async () => {
    const svc = await service(() => ({ status: 200, body: { ok: true } }))
    try {
      const certificate = JSON.stringify({ version: 1, scopes: ['a'], start: 1, expiry: 2, seed: 's', signature: 'x' })
      const answer = await apiRequest({ rootUrl: svc.rootUrl, service: 'queue', method: 'POST', path: '/claim-work/p%2Fw', credentials: { clientId: 'task-client', accessToken: 'key-of-task-client', certificate }, body: { tasks: 1 }, timeoutMs: 5000 })
      assert.deepEqual(answer, { ok: true })
      const [req] = svc.seen
      assert.equal(req!.method, 'POST')
      assert.equal(req!.url, '/api/queue/v1/claim-work/p%2Fw')
      assert.equal(req!.id, 'task-client')
      assert.deepEqual(JSON.parse(Buffer.from(req!.ext!, 'base64').toString()), { certificate: JSON.parse(certificate) })
      assert.deepEqual(JSON.parse(req!.body), { tasks: 1 })
      // permanent credentials: no ext at all
      await apiRequest({ rootUrl: svc.rootUrl, service: 'queue', method: 'POST', path: '/task/T/runs/0/completed', credentials: { clientId: 'worker', accessToken: 'key-of-worker' }, timeoutMs: 5000 })
      assert.equal(svc.seen[1]!.ext, undefined)
      assert.equal(svc.seen[1]!.body, '')
    } finally {
      await svc.close()
    }
  })

  it('throws the status, the service error code and message (taskcluster-client src/client.js: err.statusCode, err.code)', async () => {
    const svc = await service((s) => (s.url.endsWith('/conflict') ? { status: 409, body: { code: 'RequestConflict', message: 'run is resolved' } } : { status: 500 }))
    try {
      const call = (path: string) => apiRequest({ rootUrl: svc.rootUrl, service: 'queue', method: 'POST', path, timeoutMs: 5000 })
      await assert.rejects(call('/conflict'), (err: unknown) => err instanceof TaskclusterApiError && err.statusCode === 409 && err.code === 'RequestConflict' && err.message === 'run is resolved')
      await assert.rejects(call('/broken'), (err: unknown) => err instanceof TaskclusterApiError && err.statusCode === 500 && err.code === 'UnknownError' && err.message === 'Internal Server Error')
    } finally {
      await svc.close()
    }
  })
})

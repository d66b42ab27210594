// A worker crash reported to Sentry as generic-worker reports a panic (sentry.go:9-31): the DSN
// from auth.sentryDSN with the worker's credentials, then raven-go v0.2.0's packet and transport
// (client.go SetDSN, Packet.Init, HTTPTransport.Send, serializedPacket; exception.go), cited by line
// in each test.
import assert from 'node:assert/strict'
import { inflateSync } from 'node:zlib'
import { parseDsn, reportCrashToSentry, sentryEvent, serializeEvent } from '../../src/worker/sentry.js'
import { FakeQueue, WORKER } from '../helpers/fake-queue/index.js'
import { recordingLogger } from '../helpers/recording-logger.js'

describe('crash reports to Sentry (sentry.go, raven-go v0.2.0)', () => {
  it('a DSN gives the store URL and the auth header as raven’s SetDSN makes them (raven-go v0.2.0 client.go:456-493)', () => {
    assert.deepEqual(parseDsn('https://pub:sec@sentry.example.com/prefix/42'), {
      storeUrl: 'https://sentry.example.com/prefix/api/42/store/',
      authHeader: 'Sentry sentry_version=4, sentry_key=pub, sentry_secret=sec',
      projectId: '42',
    })
    assert.equal(parseDsn('http://pub@127.0.0.1:9000/7').authHeader, 'Sentry sentry_version=4, sentry_key=pub')
    assert.throws(() => parseDsn('https://sentry.example.com/1'), /missing public key/)
    assert.throws(() => parseDsn('https://pub:sec@sentry.example.com/'), /missing project id/)
  })

  it('the event carries Packet.Init’s fields, the facts as tags and the exception (client.go:33, 207-246; exception.go:8-21)', () => {
    const e = sentryEvent(new Error('fork: resource temporarily unavailable'), '42', { workerId: 'w1', engine: 'multiuser' }, new Date('2026-12-04T10:11:12.345Z'))
    assert.match(String(e.event_id), /^[0-9a-f]{32}$/)
    assert.deepEqual(
      [e.message, e.project, e.timestamp, e.level, e.logger, e.tags],
      ['fork: resource temporarily unavailable', '42', '2026-12-04T10:11:12.34', 'error', 'root', [['workerId', 'w1'], ['engine', 'multiuser']]],
    )
    const ex = e.exception as { value: string; module: string; type: string; stacktrace: { frames: Array<{ function?: string; in_app: boolean }> } }
    assert.deepEqual([ex.module, ex.value, ex.type], ['fork', 'resource temporarily unavailable', 'Error'])
    // oldest call first; this test's own frame is the newest in-app one
    assert.ok(ex.stacktrace.frames.length > 1)
    assert.equal(ex.stacktrace.frames.at(-1)!.in_app, true)
    // a thrown non-Error is reported by its text (CapturePanicAndWait's fmt.Sprint)
    const s = sentryEvent('plain text', '1', {})
    assert.deepEqual([s.message, (s.exception as { value: string }).value], ['plain text', 'plain text'])
  })

  it('serialises as raven does: JSON up to 1000 bytes, above that base64 of zlib (client.go:953-971)', () => {
    const small = serializeEvent({ message: 'x' })
    assert.deepEqual([small.contentType, small.body.toString()], ['application/json', '{"message":"x"}'])
    const bigEvent = { message: 'y'.repeat(2000) }
    const big = serializeEvent(bigEvent)
    assert.equal(big.contentType, 'application/octet-stream')
    assert.deepEqual(JSON.parse(inflateSync(Buffer.from(big.body.toString(), 'base64')).toString()), bigEvent)
  })

  describe('against the fake Auth service and its Sentry store', () => {
    let fake: FakeQueue
    beforeEach(async () => {
      fake = await new FakeQueue().start()
    })
    afterEach(async () => fake.stop())

    it('fetches a DSN with the worker’s credentials (auth:sentry:<project>) and delivers the event', async () => {
      fake.auth.addClient(WORKER.clientId, WORKER.accessToken, ['auth:sentry:generic-worker'])
      const { logger } = recordingLogger()
      await reportCrashToSentry(new Error('boom '.repeat(300)), { rootUrl: fake.rootUrl, credentials: WORKER, project: 'generic-worker', tags: { workerType: 'wt' }, logger })
      const dsn = fake.requests.filter((r) => r.method === 'sentryDSN')
      assert.deepEqual(dsn.map((r) => [r.clientId, r.status]), [[WORKER.clientId, 200]])
      assert.equal(fake.sentryEvents.length, 1)
      const event = fake.sentryEvents[0]!
      // over 1000 bytes: compressed, and the fake decoded it
      assert.equal(event.contentType, 'application/octet-stream')
      assert.equal(event.packet.message, 'boom '.repeat(300))
      assert.deepEqual(event.packet.tags, [['workerType', 'wt']])
      assert.equal(event.packet.project, event.projectId)
    })

    it('no sentryProject: no request, and the line sentry.go:11 logs', async () => {
      const { logger, lines } = recordingLogger()
      await reportCrashToSentry(new Error('x'), { rootUrl: fake.rootUrl, credentials: WORKER, project: '', tags: {}, logger })
      assert.deepEqual(lines, ['No sentry project defined, not reporting to sentry'])
      assert.equal(fake.requests.filter((r) => r.method === 'sentryDSN').length, 0)
    })

    it('a DSN refused (no scope) is a warning as sentry.go:17 words it, and nothing is sent', async () => {
      fake.auth.addClient(WORKER.clientId, WORKER.accessToken, [])
      const { logger, lines } = recordingLogger()
      await reportCrashToSentry(new Error('x'), { rootUrl: fake.rootUrl, credentials: WORKER, project: 'generic-worker', tags: {}, logger })
      assert.equal(lines.length, 1)
      assert.match(lines[0]!, /^WARNING: Could not get sentry DSN: .*auth:sentry:generic-worker/)
      assert.equal(fake.sentryEvents.length, 0)
    })
  })
})

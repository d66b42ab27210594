// Artifacts as generic-worker uploads them: names, content types, encodings and bytes, for s3
// and object artifacts; error artifacts for missing paths; optional artifacts.
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

const bigText = 'x'.repeat(20_000) + '\n' // above the Object service's 8 KiB data-inline limit

const script = [
  'mkdir -p out/sub/deeper',
  'printf "plain text\\n" > out/notes.txt',
  'printf "{\\"a\\":1}" > out/data.json',
  'printf "log line\\n" > out/build.log',
  'printf "%s" "$BIG" > out/big.txt',
  'printf "\\037\\213already" > out/archive.tar.gz',
  'printf "b" > out/sub/b.bin',
  'printf "c" > out/sub/deeper/c.html',
].join(' && ')

const payload = {
  command: [['sh', '-c', script]],
  env: { BIG: bigText },
  maxRunTime: 30,
  artifacts: [
    { type: 'file', path: 'out/notes.txt', name: 'public/notes.txt' },
    { type: 'file', path: 'out/data.json', name: 'public/data.json' },
    { type: 'file', path: 'out/build.log', name: 'public/build.log' },
    { type: 'file', path: 'out/big.txt', name: 'public/big.txt' },
    { type: 'file', path: 'out/archive.tar.gz', name: 'public/archive.tar.gz' },
    { type: 'file', path: 'out/notes.txt', name: 'public/explicit.txt', contentType: 'application/x-custom', contentEncoding: 'identity' },
    { type: 'directory', path: 'out/sub', name: 'public/dir' },
    { type: 'file', path: 'out/not-there.txt', name: 'public/optional.txt', optional: true },
  ],
}

describe('artifacts (fake Queue)', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake.stop())

  for (const createObjectArtifacts of [false, true]) {
    const storageType = createObjectArtifacts ? 'object' : 's3'
    it(`uploads ${storageType} artifacts with generic-worker's names, content types, encodings and bytes`, async () => {
      const o = await submitAndRun(fake, payload, { config: { createObjectArtifacts } })
      assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
      const a = fake.artifacts(o.taskId)
      const expected: Record<string, [string, string, string | Buffer]> = {
        'public/notes.txt': ['text/plain; charset=utf-8', 'gzip', 'plain text\n'],
        'public/data.json': ['application/json', 'gzip', '{"a":1}'],
        'public/build.log': ['text/plain', 'gzip', 'log line\n'],
        'public/big.txt': ['text/plain; charset=utf-8', 'gzip', bigText],
        'public/archive.tar.gz': ['application/gzip', 'identity', Buffer.from('\x1f\x8balready', 'latin1')],
        'public/explicit.txt': ['application/x-custom', 'identity', 'plain text\n'],
        'public/dir/b.bin': ['application/octet-stream', 'gzip', 'b'],
        'public/dir/deeper/c.html': ['text/html; charset=utf-8', 'gzip', 'c'],
      }
      for (const [name, [contentType, encoding, content]] of Object.entries(expected)) {
        const art = a.get(name)
        assert.ok(art, `artifact ${name} exists`)
        assert.equal(art.storageType, storageType, name)
        assert.equal(art.contentType, contentType, name)
        assert.equal(art.present, true, name)
        assert.deepEqual(art.content, Buffer.isBuffer(content) ? content : Buffer.from(content), name)
        // s3 artifacts carry their encoding; object artifacts are stored as they are.
        if (storageType === 's3') assert.equal(art.contentEncoding, encoding, name)
      }
      // artifact_feature.go:113-130, artifacts_test.go TestMissingOptionalFileArtifactDoesNotFailTest:
      // the error artifact is still uploaded; only the task failure is skipped
      assert.equal(a.get('public/optional.txt')?.storageType, 'error', 'a missing optional artifact is an error artifact')
      assert.doesNotMatch(o.log, /optional\.txt/, 'and appears only in the worker log (artifacts/error.go:20-24)')
      // upload lines go to the worker log only (artifacts/s3.go:66, object.go:41)
      assert.doesNotMatch(o.log, /Uploading/)
      if (storageType === 's3') {
        // what was PUT is the gzip of the file; createArtifact's contentLength is the size before
        // encoding (generic-worker: workers/generic-worker/artifacts/s3.go:31-33, artifacts.go:45-48)
        assert.equal(a.get('public/notes.txt')!.contentLength, Buffer.byteLength('plain text\n'))
        assert.equal(a.get('public/big.txt')!.contentLength, Buffer.byteLength(bigText))
        assert.ok(a.get('public/big.txt')!.body!.length < gzipSync(bigText).length + 64)
      } else {
        // left out for object artifacts: the deployed Queue's finishArtifact answers 500 when the
        // artifact was created with it (its artifact-created message schema has no contentLength)
        for (const name of Object.keys(expected)) assert.equal(a.get(name)!.contentLength, undefined, name)
      }
    })
  }

  it('uploads an error artifact for a missing file and fails the task (generic-worker)', async () => {
    const o = await submitAndRun(fake, {
      command: [['true']],
      maxRunTime: 30,
      artifacts: [
        { type: 'file', path: 'missing.txt', name: 'public/missing.txt' },
        { type: 'directory', path: 'missing-dir', name: 'public/missing-dir' },
      ],
    })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    const file = fake.artifacts(o.taskId).get('public/missing.txt')!
    assert.equal(file.storageType, 'error')
    assert.equal(file.reason, 'file-missing-on-worker')
    assert.match(file.message!, /^Could not read file '\/.*\/missing\.txt'$/)
    assert.equal(fake.artifacts(o.taskId).get('public/missing-dir')!.reason, 'file-missing-on-worker')
    // artifacts/error.go:20-24, then artifact_feature.go:131-133, then the footer (the first error)
    const abs = file.message!.slice("Could not read file '".length, -1)
    assert.ok(
      o.log.includes(
        `[taskcluster:error] Uploading error artifact public/missing.txt from file missing.txt with message "Could not read file '${abs}'", reason "file-missing-on-worker" and expiry ${new Date(file.expires).toISOString()}\n` +
          `[taskcluster:error] TASK FAILURE during artifact upload: file-missing-on-worker: Could not read file '${abs}'\n`,
      ),
      o.log,
    )
    assert.match(o.log, /\n\[taskcluster:error\] file-missing-on-worker: Could not read (file|directory) '.*'\n$/)
  })

  it('uploads invalid-resource-on-worker when a file artifact is a directory and vice versa', async () => {
    const o = await submitAndRun(fake, {
      command: [['sh', '-c', 'mkdir d && touch f']],
      maxRunTime: 30,
      artifacts: [
        { type: 'file', path: 'd', name: 'public/d' },
        { type: 'directory', path: 'f', name: 'public/f' },
      ],
    })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    const d = fake.artifacts(o.taskId).get('public/d')!
    const f = fake.artifacts(o.taskId).get('public/f')!
    assert.deepEqual([d.reason, f.reason], ['invalid-resource-on-worker', 'invalid-resource-on-worker'])
    // artifact_feature.go:295 and :303 (artifacts_test.go TestFileArtifactIsDirectory, TestDirectoryArtifactIsFile)
    assert.match(d.message!, /^File artifact '\/.*\/d' exists as a directory, not a file, on the worker$/)
    assert.match(f.message!, /^Directory artifact '\/.*\/f' exists as a file, not a directory, on the worker$/)
  })

  it('walks a directory artifact without following links: broken link → file-missing-on-worker, link to a directory → invalid-resource-on-worker, names cleaned like filepath.Join (artifact_feature.go:190-232)', async () => {
    const o = await submitAndRun(fake, {
      command: [['sh', '-c', 'mkdir -p d/sub && echo x > d/sub/e.html && ln -s nowhere d/broken && ln -s sub d/linkdir && ln -s sub/e.html d/link.html && ln -s d dl']],
      maxRunTime: 30,
      artifacts: [
        { type: 'directory', path: 'd', name: 'public/d/' },
        { type: 'directory', path: 'dl', name: 'public/dl' },
      ],
    })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    const a = fake.artifacts(o.taskId)
    assert.equal(a.get('public/d/sub/e.html')!.content!.toString(), 'x\n')
    assert.equal(a.get('public/d/link.html')!.content!.toString(), 'x\n')
    assert.match(a.get('public/d/broken')!.message!, /^Could not read file '\/.*\/d\/broken'$/)
    assert.equal(a.get('public/d/broken')!.reason, 'file-missing-on-worker')
    assert.match(a.get('public/d/linkdir')!.message!, /^File artifact '\/.*\/d\/linkdir' exists as a directory, not a file, on the worker$/)
    // the walk root is lstat'ed: a directory artifact that is a link is one error artifact (row 35)
    assert.match(a.get('public/dl')!.message!, /^File artifact '\/.*\/dl' exists as a directory, not a file, on the worker$/)
    assert.equal([...a.keys()].some((k) => k.includes('//') || k.startsWith('public/dl/')), false)
  })

  it('uploads artifacts even when the command failed', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'echo partial > r.txt; exit 2']], maxRunTime: 30, artifacts: [{ type: 'file', path: 'r.txt', name: 'public/r.txt' }] })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'])
    assert.equal(fake.artifacts(o.taskId).get('public/r.txt')!.content!.toString(), 'partial\n')
  })

  it('resolves malformed-payload with generic-worker’s message when the Queue answers 409 (the same name with other content: artifacts.go:136-147)', async () => {
    const o = await submitAndRun(fake, {
      command: [['sh', '-c', 'echo a > a.txt; echo b > b.txt']],
      maxRunTime: 30,
      artifacts: [
        { type: 'file', path: 'a.txt', name: 'public/same.txt' },
        { type: 'file', path: 'b.txt', name: 'public/same.txt', contentType: 'application/x-other' },
      ],
    })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'], o.log)
    assert.ok(
      o.log.includes(
        '[taskcluster:error] there was a conflict uploading artifact public/same.txt - this suggests artifact public/same.txt was already uploaded to this task with different content earlier on in this task.\n' +
          `[taskcluster:error] Check the artifacts section of the task payload at ${fake.rootUrl}/api/queue/v1/task/${o.taskId}\n`,
      ),
      o.log,
    )
  })

  it('resolves internal-error when the Queue refuses an artifact name with 400 (not ASCII), and keeps the other artifacts', async () => {
    // generic-worker: a 4xx other than 409 from createArtifact is a "WORKER EXCEPTION" panic
    // (workers/generic-worker/artifacts.go:154-155), exception/internal-error where it is
    // recovered (main.go:1185-1188). For payload artifacts upstream's panic kills the worker;
    // megalodon resolves the task instead (it never crashes on a task).
    const o = await submitAndRun(fake, {
      command: [['sh', '-c', 'echo ok > a.txt']],
      maxRunTime: 30,
      artifacts: [
        { type: 'file', path: 'a.txt', name: 'public/caf\u00e9.txt' },
        { type: 'file', path: 'a.txt', name: 'public/ascii.txt' },
      ],
    })
    assert.deepEqual([o.state, o.reason], ['exception', 'internal-error'])
    assert.equal(fake.artifacts(o.taskId).get('public/ascii.txt')!.content!.toString(), 'ok\n')
    assert.equal(fake.artifacts(o.taskId).has('public/caf\u00e9.txt'), false)
    assert.match(o.log, /WORKER EXCEPTION due to response code 400 from Queue when uploading artifact public\/caf\u00e9\.txt/)
  })

  it('resolves by the backing log’s failed upload when nothing else went wrong (generic-worker backing_log_feature.go:80)', async () => {
    fake.injectFault({ method: 'createArtifact', status: 400, times: 5 })
    const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 30, features: { liveLog: false } })
    // a 4xx other than 409 is generic-worker's WORKER EXCEPTION (artifacts.go:154-155)
    assert.deepEqual([o.state, o.reason], ['exception', 'internal-error'])
  })

  it('publishes only the backing log after a malformed payload, no live-log link (generic-worker main.go:82-87, livelog_feature.go:135-147)', async () => {
    const o = await submitAndRun(fake, { command: 'not a list', maxRunTime: 30 })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'])
    assert.deepEqual([...fake.artifacts(o.taskId).keys()], ['public/logs/live_backing.log'])
  })

  it('resolves malformed-payload when an artifact expires before the task deadline', async () => {
    const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 30, artifacts: [{ type: 'file', path: 'a', expires: new Date(Date.now() + 60_000).toISOString() }] })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'])
    // artifact_feature.go:71 (payload_test.go checks "expires before task deadline")
    assert.match(o.log, /\[taskcluster:error\] malformed payload: artifact 'a' expires before task deadline \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z is before \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)\n/)
    const late = await submitAndRun(fake, { command: [['true']], maxRunTime: 30, artifacts: [{ type: 'file', path: 'b', expires: new Date(Date.now() + 3650 * 86_400_000).toISOString() }] })
    assert.deepEqual([late.state, late.reason], ['exception', 'malformed-payload'])
    // artifact_feature.go:76 (payload_test.go checks "expires after task expiry")
    assert.match(late.log, /\[taskcluster:error\] malformed payload: artifact 'b' expires after task expiry \(\S+ is after \S+\)\n/)
  })
})

// `mz` and `tar.mz` (MinLZ) mounts end to end (fake Queue, native executor), as generic-worker
// takes them: the format names of its payload schema (fileMount.format `mz`, directory formats
// `tar.mz`); content decoded with minio/minlz's stream reader there (mholt/archives minlz.go:48-50,
// reached by the name hint "file."+format, mounts_feature.go:1168, or "archive."+format,
// fileutil/fileutil.go:136); a decompression that fails is a task failure, resolved
// failed/failed (mounts_feature.go:1186-1193 returns the error, :636-641 makes it a Failure;
// upstream's TestCorruptZipDoesntCrashWorker, mounts_test.go:114-151, expects "failed", "failed").
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { eofChunk, encodeStream, minlzChunk, referenceBlock, referenceText, streamIdentifier, withoutIndicator } from '../helpers/minlz.js'
import { backingLog } from '../helpers/tasks.js'
import { runWorker, workerConfig } from '../helpers/worker.js'
import type { RawConfig } from '../../src/config/config.js'

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('MinLZ mounts (native executor, fake Queue)', function () {
  this.timeout(60_000)
  let fake: FakeQueue
  let config: RawConfig
  const text = referenceText()
  /** The reference encoder's block in a stream framed per the spec. */
  const sawyerMz = Buffer.concat([streamIdentifier(4), minlzChunk(withoutIndicator(referenceBlock()), text), eofChunk(text.length)])

  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    config = await workerConfig(fake)
  })
  afterEach(async () => fake?.stop())

  async function run(payload: unknown, opts: { scopes?: string[]; dependencies?: string[] } = {}) {
    const id = slugid()
    await fake.createTask(id, { payload, scopes: opts.scopes ?? [], dependencies: opts.dependencies ?? [] })
    await runWorker(fake, { ...config, numberOfTasksToRun: 1 })
    const r = fake.state.get(id).runs[0]!
    return { state: r.state, reason: r.reasonResolved, log: backingLog(fake, id) }
  }

  it('mounts a file in format mz, from an artifact and from base64 content', async () => {
    const producer = await fake.seedArtifact('public/sawyer.txt.mz', sawyerMz)
    const o = await run(
      {
        command: [['sh', '-c', 'sha256sum art.txt b64.txt; head -c 16 art.txt; echo']],
        maxRunTime: 60,
        mounts: [
          { file: 'art.txt', content: { taskId: producer, artifact: 'public/sawyer.txt.mz' }, format: 'mz' },
          { file: 'b64.txt', content: { base64: sawyerMz.toString('base64') }, format: 'mz' },
        ],
      },
      { dependencies: [producer] },
    )
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.match(o.log, new RegExp(`^${sha256(text)}  art.txt$`, 'm'))
    assert.match(o.log, new RegExp(`^${sha256(text)}  b64.txt$`, 'm'))
    assert.match(o.log, /^Produced by Davi$/m)
  })

  it('unpacks tar.mz into a read-only directory and into a fresh writable cache', async () => {
    const src = mkdtempSync(path.join(os.tmpdir(), 'megalodon-mz-src-'))
    mkdirSync(path.join(src, 'tree', 'chapters'), { recursive: true })
    writeFileSync(path.join(src, 'tree', 'chapters', 'sawyer.txt'), text)
    writeFileSync(path.join(src, 'tree', 'top.txt'), 'top of the tree\n')
    execFileSync('tar', ['-cf', path.join(src, 'tree.tar'), '-C', path.join(src, 'tree'), '.'])
    const tarMz = encodeStream(readFileSync(path.join(src, 'tree.tar')))
    const producer = await fake.seedArtifact('public/tree.tar.mz', tarMz)
    const content = { taskId: producer, artifact: 'public/tree.tar.mz' }
    const o = await run(
      {
        command: [['sh', '-c', 'cat ro/top.txt cache/top.txt; sha256sum ro/chapters/sawyer.txt cache/chapters/sawyer.txt']],
        maxRunTime: 60,
        mounts: [
          { directory: 'ro', content, format: 'tar.mz' },
          { directory: 'cache', cacheName: 'mz-seeded', content, format: 'tar.mz' },
        ],
      },
      { scopes: ['generic-worker:cache:mz-seeded'], dependencies: [producer] },
    )
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.match(o.log, /^top of the tree\ntop of the tree$/m)
    assert.match(o.log, new RegExp(`^${sha256(text)}  ro/chapters/sawyer.txt\n${sha256(text)}  cache/chapters/sawyer.txt$`, 'm'))
  })

  it('fails the task (failed/failed, as upstream) on a corrupt mz file or tar.mz archive, and runs no command', async () => {
    const badCrc = Buffer.from(sawyerMz)
    badCrc[10 + 4]! ^= 0xff // the data chunk's checksum (after the 10-byte stream identifier chunk and its own header)
    const src = mkdtempSync(path.join(os.tmpdir(), 'megalodon-mz-src-'))
    writeFileSync(path.join(src, 'a.txt'), text)
    execFileSync('tar', ['-cf', path.join(src, 'a.tar'), '-C', src, 'a.txt'])
    const truncated = encodeStream(readFileSync(path.join(src, 'a.tar'))).subarray(0, -5) // inside its EOF chunk
    for (const mount of [
      { file: 'f.txt', content: { base64: badCrc.toString('base64') }, format: 'mz' },
      { directory: 'd', content: { base64: truncated.toString('base64') }, format: 'tar.mz' },
      { file: 'g.txt', content: { raw: 'not MinLZ at all' }, format: 'mz' },
    ]) {
      const o = await run({ command: [['sh', '-c', 'echo the command ran']], maxRunTime: 60, mounts: [mount] })
      assert.deepEqual([o.state, o.reason], ['failed', 'failed'], o.log)
      assert.match(o.log, /\[taskcluster:error\] \[mounts\] .*MinLZ/)
      assert.doesNotMatch(o.log, /^the command ran$/m)
    }
  })
})

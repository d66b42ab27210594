// generic-worker mounts end to end (fake Queue, native executor): every mount type from every
// content source, sha256 checks, downloads reused across tasks, writable caches kept, purged
// and refused without their scope.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { slugid } from 'taskcluster-client'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog } from '../helpers/tasks.js'
import { runWorker, workerConfig } from '../helpers/worker.js'
import type { RawConfig } from '../../src/config/config.js'

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

describe('mounts (native executor, fake Queue)', function () {
  this.timeout(60_000)
  let fake: FakeQueue
  let server: http.Server
  let served = 0
  const urlBody = Buffer.from('content from a URL\n')
  let baseUrl: string
  let config: RawConfig
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/file.txt') {
        served++
        res.writeHead(200).end(urlBody)
      } else res.writeHead(404).end()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => server.close())
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    // one worker's directories for every task of a test: downloads and caches persist between them
    config = await workerConfig(fake)
  })
  afterEach(async () => fake?.stop())

  /** Run tasks (in order) through one worker; returns their outcomes. */
  async function run(tasks: Array<{ payload: unknown; scopes?: string[]; dependencies?: string[] }>) {
    const ids: string[] = []
    for (const t of tasks) {
      const id = slugid()
      ids.push(id)
      await fake.createTask(id, { payload: t.payload, scopes: t.scopes ?? [], dependencies: t.dependencies ?? [] })
      await runWorker(fake, { ...config, numberOfTasksToRun: 1 })
    }
    return ids.map((id) => {
      const r = fake.state.get(id).runs[0]!
      return { id, state: r.state, reason: r.reasonResolved, log: backingLog(fake, id) }
    })
  }

  it('mounts files from raw, base64, a URL, an artifact and an indexed artifact, decompressing a gz one', async () => {
    const artifactBytes = Buffer.from('an artifact of another task\n')
    const producer = await fake.seedArtifact('public/thing.txt', artifactBytes, 'text/plain')
    fake.index.set('project.thing.latest', producer)
    const gz = gzipSync(Buffer.from('was gzip-compressed\n'))
    const [o] = await run([
      {
        payload: {
          command: [['sh', '-c', 'cat raw.txt b64.txt url.txt art.txt dir/indexed.txt plain.txt']],
          maxRunTime: 60,
          mounts: [
            { file: 'raw.txt', content: { raw: 'raw content\n' } },
            { file: 'b64.txt', content: { base64: Buffer.from('base64 content\n').toString('base64') } },
            { file: 'url.txt', content: { url: `${baseUrl}/file.txt`, sha256: sha256(urlBody) } },
            { file: 'art.txt', content: { taskId: producer, artifact: 'public/thing.txt' } },
            { file: 'dir/indexed.txt', content: { namespace: 'project.thing.latest', artifact: 'public/thing.txt' } },
            { file: 'plain.txt', content: { base64: gz.toString('base64') }, format: 'gz' },
          ],
        },
        dependencies: [producer],
      },
    ])
    assert.equal(o!.state, 'completed', o!.log)
    assert.match(o!.log, /raw content\nbase64 content\ncontent from a URL\nan artifact of another task\nan artifact of another task\nwas gzip-compressed\n/)
    // mounts_feature.go:1065 (a warn line) and :1280-1282's description of the content
    assert.match(o!.log, /\[taskcluster:warn \S+\] \[mounts\] Download \/\S+ of task \S+ artifact public\/thing.txt has SHA256 [0-9a-f]{64} but task payload does not declare a required value, so content authenticity cannot be verified\n/)
    // mounts_feature.go:1347 and :1384 (URL content), :1263 (artifact content: no "Downloading" line)
    const url = `${baseUrl}/file.txt`.replace(/[.?]/g, '\\$&')
    assert.match(o!.log, new RegExp(`\\] \\[mounts\\] Downloading url ${url} to /\\S+\n`))
    assert.match(o!.log, new RegExp(`\\] \\[mounts\\] Downloaded ${urlBody.length} bytes with SHA256 ${sha256(urlBody)} from url ${url} to /\\S+\n`))
    assert.match(o!.log, /\] \[mounts\] Downloaded 28 bytes with SHA256 [0-9a-f]{64} from task \S+ artifact public\/thing.txt to \/\S+\n/)
    assert.doesNotMatch(o!.log, /Downloading task /)
  })

  it('unpacks read-only directories (tar.gz and zip) from artifacts', async () => {
    const src = mkdtempSync(path.join(os.tmpdir(), 'megalodon-mount-src-'))
    mkdirSync(path.join(src, 'tree', 'sub'), { recursive: true })
    writeFileSync(path.join(src, 'tree', 'top.txt'), 'top\n')
    writeFileSync(path.join(src, 'tree', 'sub', 'deep.txt'), 'deep\n')
    execFileSync('tar', ['-czf', path.join(src, 'tree.tar.gz'), '-C', path.join(src, 'tree'), '.'])
    execFileSync('zip', ['-q', '-r', path.join(src, 'tree.zip'), '.'], { cwd: path.join(src, 'tree') })
    const tgz = await fake.seedArtifact('public/tree.tar.gz', readFileSync(path.join(src, 'tree.tar.gz')))
    const zip = await fake.seedArtifact('public/tree.zip', readFileSync(path.join(src, 'tree.zip')))
    const [o] = await run([
      {
        payload: {
          command: [['sh', '-c', 'cat a/top.txt a/sub/deep.txt b/sub/deep.txt']],
          maxRunTime: 60,
          mounts: [
            { directory: 'a', content: { taskId: tgz, artifact: 'public/tree.tar.gz' }, format: 'tar.gz' },
            { directory: 'b', content: { taskId: zip, artifact: 'public/tree.zip' }, format: 'zip' },
          ],
        },
        dependencies: [tgz, zip],
      },
    ])
    assert.equal(o!.state, 'completed', o!.log)
    assert.match(o!.log, /^top\ndeep\ndeep\n/m)
  })

  it('mounts outside the task directory too, as generic-worker does: files, directories and caches at absolute paths', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'megalodon-outside-'))
    const src = mkdtempSync(path.join(os.tmpdir(), 'megalodon-mount-src-'))
    mkdirSync(path.join(src, 'tree'))
    writeFileSync(path.join(src, 'tree', 'in-tree.txt'), 'from the tree\n')
    execFileSync('tar', ['-cf', path.join(src, 'tree.tar'), '-C', path.join(src, 'tree'), '.'])
    const tarBase64 = readFileSync(path.join(src, 'tree.tar')).toString('base64')
    const scope = 'generic-worker:cache:outside-cache'
    const mounts = [
      { file: path.join(outside, 'deep', 'file.txt'), content: { raw: 'raw outside\n' } },
      { directory: path.join(outside, 'ro'), content: { base64: tarBase64 }, format: 'tar' },
      { directory: path.join(outside, 'cache'), cacheName: 'outside-cache' },
    ]
    const show = `cat ${outside}/deep/file.txt ${outside}/ro/in-tree.txt; cat ${outside}/cache/state 2>/dev/null || echo "no state"; echo kept > ${outside}/cache/state`
    const [first, second] = await run([
      { payload: { command: [['sh', '-c', show]], maxRunTime: 60, mounts }, scopes: [scope] },
      { payload: { command: [['sh', '-c', show]], maxRunTime: 60, mounts: [mounts[2]] }, scopes: [scope] },
    ])
    assert.equal(first!.state, 'completed', first!.log)
    assert.match(first!.log, /^raw outside\nfrom the tree\nno state$/m)
    assert.equal(second!.state, 'completed', second!.log)
    assert.match(second!.log, /^kept$/m, 'the cache came back into the pool and out again')
    assert.equal(existsSync(path.join(outside, 'cache')), false, 'between tasks the cache lives in cachesDir')
    assert.equal(readFileSync(path.join(outside, 'deep', 'file.txt'), 'utf8'), 'raw outside\n', 'files stay where they were put, as upstream')

    // a cache cannot replace what is already there; the instance is not lost
    mkdirSync(path.join(outside, 'cache'))
    writeFileSync(path.join(outside, 'cache', 'someone-elses'), 'x')
    const [blocked] = await run([{ payload: { command: [['true']], maxRunTime: 60, mounts: [mounts[2]] }, scopes: [scope] }])
    assert.equal(blocked!.state, 'failed', blocked!.log)
    assert.match(blocked!.log, /\[mounts\] Cannot mount at .*\/cache with the task's rights: .*(not empty|File exists)/)
    assert.equal(readFileSync(path.join(outside, 'cache', 'someone-elses'), 'utf8'), 'x', 'nothing of what was there is touched')
    rmSync(path.join(outside, 'cache'), { recursive: true })
    const [again] = await run([{ payload: { command: [['sh', '-c', `cat ${outside}/cache/state`]], maxRunTime: 60, mounts: [mounts[2]] }, scopes: [scope] }])
    assert.match(again!.log, /^kept$/m, 'the instance went back to the pool after the failed mount')

    const [itself] = await run([{ payload: { command: [['true']], maxRunTime: 60, mounts: [{ directory: '.', cacheName: 'outside-cache' }] }, scopes: [scope] }])
    assert.equal(itself!.state, 'failed')
    assert.match(itself!.log, /Mount target \. would replace the task directory/)
  })

  it('unpacks directories and seeds caches from every content source', async () => {
    // a tar of text files is text itself (ASCII and NULs): it can even be `raw` content
    const src = mkdtempSync(path.join(os.tmpdir(), 'megalodon-mount-src-'))
    mkdirSync(path.join(src, 'tree'))
    writeFileSync(path.join(src, 'tree', 'hello.txt'), 'hello from an archive\n')
    execFileSync('tar', ['--format=ustar', '-cf', path.join(src, 'tree.tar'), '-C', path.join(src, 'tree'), '.'])
    const tar = readFileSync(path.join(src, 'tree.tar'))
    const producer = await fake.seedArtifact('public/tree.tar', tar)
    fake.index.set('project.tree.latest', producer)
    const tarServer = http.createServer((_req, res) => res.writeHead(200).end(tar))
    await new Promise<void>((r) => tarServer.listen(0, '127.0.0.1', r))
    const tarUrl = `http://127.0.0.1:${(tarServer.address() as AddressInfo).port}/tree.tar`
    try {
      const sources = {
        url: { url: tarUrl },
        artifact: { taskId: producer, artifact: 'public/tree.tar' },
        indexed: { namespace: 'project.tree.latest', artifact: 'public/tree.tar' },
        raw: { raw: tar.toString('latin1') },
        base64: { base64: tar.toString('base64') },
      }
      assert.ok(tar.every((b) => b < 0x80), 'the tarball is ASCII')
      const mounts = Object.entries(sources).flatMap(([name, content]) => [
        { directory: `ro-${name}`, content, format: 'tar' },
        { directory: `cache-${name}`, cacheName: `seeded-${name}`, content, format: 'tar' },
      ])
      const cat = Object.keys(sources).flatMap((n) => [`ro-${n}/hello.txt`, `cache-${n}/hello.txt`])
      const [o] = await run([{ payload: { command: [['cat', ...cat]], maxRunTime: 60, mounts }, scopes: Object.keys(sources).map((n) => `generic-worker:cache:seeded-${n}`), dependencies: [producer] }])
      assert.equal(o!.state, 'completed', o!.log)
      assert.equal(o!.log.split('\n').filter((l) => l === 'hello from an archive').length, 10, o!.log)
    } finally {
      tarServer.close()
    }
  })

  it('gives concurrent tasks different instances of the same cache', async () => {
    const scope = 'generic-worker:cache:shared'
    const payload = (marker: string) => ({ command: [['sh', '-c', `ls cache; touch cache/${marker}; sleep 2`]], maxRunTime: 60, mounts: [{ directory: 'cache', cacheName: 'shared' }] })
    const [a, b] = [slugid(), slugid()]
    await fake.createTask(a, { payload: payload('from-a'), scopes: [scope] })
    await fake.createTask(b, { payload: payload('from-b'), scopes: [scope] })
    await runWorker(fake, { ...config, capacity: 2, numberOfTasksToRun: 2 })
    for (const id of [a, b]) assert.equal(fake.state.get(id).runs[0]!.state, 'completed', backingLog(fake, id))
    assert.doesNotMatch(backingLog(fake, b), /^from-a$/m)
    assert.doesNotMatch(backingLog(fake, a), /^from-b$/m)
    // both instances were kept: a third task gets one of them
    const [c] = await run([{ payload: { command: [['ls', 'cache']], maxRunTime: 60, mounts: [{ directory: 'cache', cacheName: 'shared' }] }, scopes: [scope] }])
    assert.match(c!.log, /^from-[ab]$/m)
  })

  it('downloads content once: a second task reuses it', async () => {
    const before = served
    const mount = { file: 'url.txt', content: { url: `${baseUrl}/file.txt`, sha256: sha256(urlBody) } }
    const outcomes = await run([
      { payload: { command: [['cat', 'url.txt']], maxRunTime: 60, mounts: [mount] } },
      { payload: { command: [['cat', 'url.txt']], maxRunTime: 60, mounts: [mount] } },
    ])
    for (const o of outcomes) assert.equal(o.state, 'completed', o.log)
    assert.equal(served - before, 1, 'the URL was fetched once')
    // mounts_feature.go:1082 for the download, :1008 for the reuse
    assert.match(outcomes[0]!.log, new RegExp(`\\[mounts\\] Content from url ${baseUrl}/file.txt \\(/\\S+\\) matches required SHA256 ${sha256(urlBody)}\n`))
    assert.match(outcomes[1]!.log, new RegExp(`\\[mounts\\] Found existing download for urlcontent:${baseUrl}/file.txt \\(/\\S+\\) with correct SHA256 ${sha256(urlBody)}\n`))
  })

  it('fails the task on a sha256 mismatch, with both hashes in the log', async () => {
    const wrong = 'f'.repeat(64)
    const [o] = await run([{ payload: { command: [['true']], maxRunTime: 60, mounts: [{ file: 'x', content: { url: `${baseUrl}/file.txt`, sha256: wrong } }] } }])
    assert.equal(o!.state, 'failed', o!.log)
    assert.ok(o!.log.includes(`has SHA256 ${sha256(urlBody)} but task definition explicitly requires ${wrong}`), o!.log)
    assert.match(o!.log, /\[taskcluster:error\] \[mounts\] /)
  })

  it('keeps a writable cache for the next task, purges it after an exit code in purgeCaches, and needs its scope', async () => {
    const scope = 'generic-worker:cache:build-cache'
    const cache = { directory: 'cache', cacheName: 'build-cache' }
    const [first, second, purged, after] = await run([
      { payload: { command: [['sh', '-c', 'echo kept > cache/state']], maxRunTime: 60, mounts: [cache] }, scopes: [scope] },
      { payload: { command: [['sh', '-c', 'cat cache/state; exit 3']], maxRunTime: 60, mounts: [cache], onExitStatus: { purgeCaches: [3] } }, scopes: [scope] },
      { payload: { command: [['sh', '-c', 'ls cache; echo "files: $(ls cache | wc -l)"']], maxRunTime: 60, mounts: [cache] }, scopes: [scope] },
      { payload: { command: [['true']], maxRunTime: 60, mounts: [cache] } },
    ])
    assert.equal(first!.state, 'completed', first!.log)
    // mounts_feature.go:828, :873, :885
    assert.match(first!.log, /\[mounts\] No existing writable directory cache 'build-cache' - creating \/\S+\n/)
    assert.match(first!.log, /\[mounts\] Successfully mounted writable directory cache '\/\S+\/cache'\n/)
    assert.match(first!.log, /\[mounts\] Preserving cache: Moving "\/\S+\/cache" to "\/\S+"\n/)
    assert.match(second!.log, /\[mounts\] Moving existing writable directory cache build-cache from \/\S+ to \/\S+\/cache\n/)
    assert.match(second!.log, /^kept$/m, 'the second task saw what the first wrote')
    // mounts_feature.go:696
    assert.match(second!.log, /\[mounts\] Purging caches since last command had exit code 3 which is listed in task.Payload.OnExitStatus.PurgeCaches array\n/)
    assert.equal(purged!.state, 'completed')
    assert.match(purged!.log, /^files: 0$/m, 'purged: the next task starts empty')
    assert.deepEqual([after!.state, after!.reason], ['exception', 'malformed-payload'])
    assert.ok(after!.log.includes(scope), 'the missing scope is named')
  })

  it('destroys a writable cache the purge-cache service was asked to purge', async () => {
    const scope = 'generic-worker:cache:purged-cache'
    const cache = { directory: 'cache', cacheName: 'purged-cache' }
    const [first] = await run([{ payload: { command: [['sh', '-c', 'echo old > cache/state']], maxRunTime: 60, mounts: [cache] }, scopes: [scope] }])
    assert.equal(first!.state, 'completed', first!.log)
    await fake.purgeCache('test-provisioner/test-worker-type', 'purged-cache')
    const [second, third] = await run([
      { payload: { command: [['sh', '-c', 'echo "files: $(ls cache | wc -l)"; echo new > cache/state']], maxRunTime: 60, mounts: [cache] }, scopes: [scope] },
      { payload: { command: [['cat', 'cache/state']], maxRunTime: 60, mounts: [cache] }, scopes: [scope] },
    ])
    assert.match(second!.log, /\[mounts\] Purged cache purged-cache: the purge-cache service asked for it/)
    assert.match(second!.log, /^files: 0$/m)
    assert.match(third!.log, /^new$/m, 'a cache made after the request is kept')
    assert.ok(fake.requests.some((r) => r.method === 'purgeRequests' && r.clientId === 'worker/test'), 'asked with the worker’s credentials')
  })

  it('fails a task that moves its cache away, refuses undeclared artifact dependencies and a target in the worker’s own directory', async () => {
    const scope = 'generic-worker:cache:c'
    const producer = await fake.seedArtifact('public/a.txt', Buffer.from('a'))
    const [moved, undeclared, outside, corrupt] = await run([
      { payload: { command: [['sh', '-c', 'mv c elsewhere']], maxRunTime: 60, mounts: [{ directory: 'c', cacheName: 'c' }] }, scopes: [scope] },
      { payload: { command: [['true']], maxRunTime: 60, mounts: [{ file: 'a.txt', content: { taskId: producer, artifact: 'public/a.txt' } }] } },
      { payload: { command: [['true']], maxRunTime: 60, mounts: [{ file: 'generic-worker/live_backing.log', content: { raw: 'forged log' } }] } },
      { payload: { command: [['true']], maxRunTime: 60, mounts: [{ directory: 'd', content: { raw: 'not a zip' }, format: 'zip' }] } },
    ])
    assert.equal(moved!.state, 'failed', moved!.log)
    assert.match(moved!.log, /Could not persist cache "c"/)
    assert.deepEqual([undeclared!.state, undeclared!.reason], ['exception', 'malformed-payload'])
    assert.ok(undeclared!.log.includes(`[taskcluster:error] [mounts] task.dependencies needs to include ${producer} since one or more of its artifacts are mounted\n`), undeclared!.log) // mounts_test.go:100
    assert.equal(outside!.state, 'failed', outside!.log)
    assert.match(outside!.log, /Mount target generic-worker\/live_backing.log is inside the worker's own generic-worker directory/)
    assert.doesNotMatch(outside!.log, /forged log/)
    assert.equal(corrupt!.state, 'failed', corrupt!.log)
    assert.match(corrupt!.log, /\[mounts\] cannot unarchive zip/)
  })

  it('is refused when the worker turns mounts off', async () => {
    const [o] = await run([{ payload: { command: [['true']], maxRunTime: 60, mounts: [{ file: 'x', content: { raw: 'x' } }] } }].map((t) => t))
    assert.equal(o!.state, 'completed')
    config = { ...config, enableMounts: false }
    const [off] = await run([{ payload: { command: [['true']], maxRunTime: 60, mounts: [{ file: 'x', content: { raw: 'x' } }] } }])
    assert.deepEqual([off!.state, off!.reason], ['exception', 'malformed-payload'])
    assert.match(off!.log, /this task is attempting to use feature "Mounts\/Caches", but it's not enabled on this worker pool/)
  })
})

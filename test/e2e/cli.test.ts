// The command line as people and worker-runner use it: the compiled CLI in a child process.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { cliEntry, projectPath } from '../../src/lib/paths.js'
import { buildConfig } from '../../src/config/config.js'
import { payloadDocumentFor } from '../../executors/native/schema.js'
import { currentPlatform } from '../../executors/native/platform.js'

function megalodon(...args: string[]) {
  const r = spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('megalodon CLI', function () {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cli-'))
  })

  it('local: runs the README sample, streams the log, writes artifacts, prints the resolution last, exits 0', async () => {
    const r = megalodon('local', projectPath('compat-fixtures', 'generic', 'hello-world.yml'), '--artifacts', dir)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /Executing command 0: echo 'Hello from megalodon'\nHello from megalodon\n/)
    assert.match(r.stdout, /Resolution: completed\n$/)
    assert.equal(await readFile(path.join(dir, 'public/hello.txt'), 'utf8'), 'hello\n')
    assert.match(await readFile(path.join(dir, 'public/logs/live_backing.log'), 'utf8'), /=== Task Finished ===/)
    const index = JSON.parse(await readFile(path.join(dir, 'artifacts.json'), 'utf8')) as Array<{ name: string; storageType: string }>
    assert.deepEqual(index.map((a) => [a.name, a.storageType]), [['public/hello.txt', 's3'], ['public/logs/live_backing.log', 's3'], ['public/logs/live.log', 'link']])
  })

  it('local: exits 1 for a failed task and 2 for an exception', () => {
    const failed = megalodon('local', projectPath('compat-fixtures', 'generic', 'exit-failure.yml'), '--artifacts', dir)
    assert.equal(failed.code, 1)
    assert.match(failed.stdout, /Resolution: failed\n$/)
    const malformed = megalodon('local', projectPath('compat-fixtures', 'generic', 'malformed-env.yml'), '--artifacts', dir)
    assert.equal(malformed.code, 2)
    assert.match(malformed.stdout, /Resolution: exception \(malformed-payload\)\n$/)
  })

  it('local: runs a bare payload (JSON)', async () => {
    const file = path.join(dir, 'payload.json')
    await writeFile(file, JSON.stringify({ command: [['sh', '-c', 'echo $TASK_ID']], maxRunTime: 10 }))
    const r = megalodon('local', file, '--artifacts', path.join(dir, 'out'))
    assert.equal(r.code, 0, r.stderr)
    const taskId = /Task (\S+): artifacts/.exec(r.stdout)![1]
    assert.match(r.stdout, new RegExp(`^${taskId}$`, 'm'))
  })

  it('validate: prints every schema error with its path and exits 1; exits 0 for a valid payload', async () => {
    const bad = path.join(dir, 'bad.json')
    await writeFile(bad, JSON.stringify({ command: 'echo', maxRunTime: 0, env: { A: 1 } }))
    const r = megalodon('validate', bad)
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^- command: Invalid type\. Expected: array, given: string$/m)
    assert.match(r.stdout, /^- maxRunTime: Must be greater than or equal to 1$/m)
    assert.match(r.stdout, /^- env\.A: Invalid type\. Expected: string, given: integer$/m)
    const ok = megalodon('validate', projectPath('compat-fixtures', 'generic', 'hello-world.yml'))
    assert.equal(ok.code, 0)
    assert.match(ok.stdout, /^valid generic payload$/m)
  })

  it('validate: knows docker-worker payloads by their schema', async () => {
    const good = path.join(dir, 'docker.json')
    await writeFile(good, JSON.stringify({ image: 'ubuntu:24.04', command: ['true'], maxRunTime: 60 }))
    const r = megalodon('validate', good)
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^valid docker payload$/m)
    const bad = path.join(dir, 'docker-bad.json')
    await writeFile(bad, JSON.stringify({ image: 'ubuntu:24.04', command: 'true', maxRunTime: 60, capabilities: { gpu: true } }))
    const b = megalodon('validate', bad)
    assert.equal(b.code, 1)
    // docker-worker's own (ajv 7) words, as its src/validate.js wrote them into the task log
    assert.match(b.stdout, /^ {2}\* data\/command should be array$/m)
    assert.match(b.stdout, /^ {2}\* data\/capabilities should NOT have additional properties: "gpu"$/m)
  })

  // generic-worker main.go:120-123, 133-134: `generic-worker (<engine> engine) <version>`; --short-version the bare version
  it('--version, --short-version and --help', () => {
    const version = (JSON.parse(spawnSync('cat', [projectPath('package.json')], { encoding: 'utf8' }).stdout) as { version: string }).version
    assert.equal(megalodon('--version').stdout, `megalodon (${buildConfig([]).engine} engine) ${version}\n`)
    assert.equal(megalodon('--short-version').stdout, `${version}\n`)
    for (const cmd of ['run', 'local', 'validate']) assert.match(megalodon(cmd, '--help').stdout, /Usage: megalodon/)
  })

  // generic-worker main.go:131-132 prints its engine's payload schema, on posix oneOf [generic,
  // docker] (insecure_posix.yml:4-5); megalodon prints its own of that shape (lead's decision)
  it('show-payload-schema prints the generic-worker payload schema this worker validates against', () => {
    const r = megalodon('show-payload-schema')
    assert.equal(r.code, 0, r.stderr)
    const printed = JSON.parse(r.stdout) as { title: string; oneOf?: Array<{ title: string }> }
    assert.deepEqual(printed, payloadDocumentFor(buildConfig([]).engine, currentPlatform().name))
    if (currentPlatform().name === 'windows') assert.match(printed.title, /^generic-worker payload/)
    else {
      assert.equal(printed.title, 'Payload')
      assert.deepEqual(printed.oneOf?.map((b) => b.title), [`generic-worker payload (Linux, ${buildConfig([]).engine} engine)`, 'docker-worker payload'])
    }
  })

  // generic-worker main.go:135-144: the status file as it is, `{"currentTaskIds": []}` indented when
  // there is none, exit 84 (CANT_GET_WORKER_STATUS, usage.go) when it cannot be read
  it('status prints $TMPDIR/worker-status.json, an empty list without one, and exits 84 when it cannot be read', async () => {
    const env = { ...process.env, TMPDIR: dir }
    const status = () => spawnSync(process.execPath, [cliEntry, 'status'], { encoding: 'utf8', env })
    const none = status()
    assert.deepEqual([none.status, none.stdout], [0, '{\n  "currentTaskIds": []\n}\n'])
    await writeFile(path.join(dir, 'worker-status.json'), '{\n  "currentTaskIds": [\n    "abc"\n  ]\n}\n')
    assert.deepEqual([status().status, status().stdout], [0, '{\n  "currentTaskIds": [\n    "abc"\n  ]\n}\n'])
    await rm(path.join(dir, 'worker-status.json'))
    await mkdir(path.join(dir, 'worker-status.json'))
    assert.equal(status().status, 84)
  })

  it('run: --config defaults to generic-worker.config in the working directory (usage.go:86)', async () => {
    const r = spawnSync(process.execPath, [cliEntry, 'run'], { encoding: 'utf8', cwd: dir })
    assert.equal(r.status, 64)
    assert.match(r.stderr, /generic-worker\.config/)
  })

  it('run: exits 64 for a config that does not decode (an unknown key) or cannot be read, 73 for an invalid one (main.go:178-179,417-418)', async () => {
    const file = path.join(dir, 'worker.json')
    const base = { rootURL: 'http://127.0.0.1:1', clientId: 'c', accessToken: 't', workerType: 'w', workerId: 'i', ed25519SigningKeyLocation: '/k', engine: 'insecure' }
    await writeFile(file, JSON.stringify({ ...base, bogusKey: 1 }))
    const unknown = megalodon('run', '--config', file, '--with-worker-runner')
    assert.equal(unknown.code, 64)
    assert.match(unknown.stderr, /Error unmarshaling generic worker config file .*worker\.json as JSON: json: unknown field "bogusKey"/)
    await writeFile(file, JSON.stringify({ ...base, workerGroup: '' }))
    const invalid = megalodon('run', '--config', file, '--with-worker-runner')
    assert.equal(invalid.code, 73)
    assert.match(invalid.stderr, /Config setting "workerGroup" has not been defined/)
    const missing = megalodon('run', '--config', path.join(dir, 'nope.json'))
    assert.equal(missing.code, 64)
  })
})

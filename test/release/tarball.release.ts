// The release as an operator gets it: `make release`'s tarball, built here into a temporary
// directory, unpacked into a fresh one and run with `env -i PATH=/usr/bin:/bin` — no Node 24
// anywhere on PATH (this machine's /usr/bin/node is Debian's 20, which cannot run megalodon) —
// and once more with a decoy `node` first on PATH that fails whoever runs it. `npm run
// test:release` (from .ci/run) runs it; it takes about a minute, most of it compiling node-pty.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { buildRelease, type Release } from '../../release/build.js'
import { projectPath } from '../../src/lib/paths.js'
import { buildConfig } from '../../src/config/config.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { FakeRunner } from '../helpers/fake-runner.js'
import { openShell, socketUrlOf } from '../helpers/shell-client.js'
import { backingLog, until } from '../helpers/tasks.js'
import { workerConfig } from '../helpers/worker.js'

const BARE_PATH = '/usr/bin:/bin'

describe('release tarball (unpacked, no Node 24 on PATH)', function () {
  this.timeout(300_000)
  let release: Release
  let root: string
  const temporary: string[] = []
  const tempDir = async (prefix: string) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
    temporary.push(dir)
    return dir
  }

  before(async () => {
    release = await buildRelease(await tempDir('megalodon-release-out-'))
    const unpacked = await tempDir('megalodon-release-unpacked-')
    execFileSync('tar', ['-xzf', release.tarball, '-C', unpacked])
    root = path.join(unpacked, release.name)
  })
  after(async () => {
    for (const dir of temporary) await rm(dir, { recursive: true, force: true })
  })

  /** `env -i PATH=… <root>/bin/megalodon args…`, as a person or a unit file would run it. */
  function megalodon(args: string[], pathValue = BARE_PATH) {
    const r = spawnSync('/usr/bin/env', ['-i', `PATH=${pathValue}`, path.join(root, 'bin', 'megalodon'), ...args], { encoding: 'utf8', timeout: 120_000 })
    return { code: r.status, stdout: r.stdout, stderr: r.stderr }
  }

  it('is named for its version and platform and holds one directory with the launcher, Node 24 and the bundle', async () => {
    const { version } = JSON.parse(await readFile(projectPath('package.json'), 'utf8')) as { version: string }
    assert.equal(path.basename(release.tarball), `megalodon-${version}-${process.platform}-${process.arch}.tar.gz`)
    assert.deepEqual((await readdir(root)).sort(), ['THIRD_PARTY_LICENSES.txt', 'bin', 'cache', 'dist', 'node_modules', 'package.json', 'runtime', 'schemas'])
    assert.deepEqual(await readdir(path.join(root, 'node_modules')), ['node-pty'], 'every other package is inside the bundle')
    assert.match(execFileSync(path.join(root, 'runtime', 'node'), ['--version'], { encoding: 'utf8' }), /^v24\./)
  })

  it('--version: runs on its own Node with only /usr/bin:/bin on PATH, and with a decoy node first on PATH', async () => {
    const plain = megalodon(['--version'])
    assert.deepEqual([plain.code, plain.stdout, plain.stderr], [0, `megalodon (${buildConfig([]).engine} engine) ${release.version}\n`, ''])

    const decoyDir = await tempDir('megalodon-decoy-node-')
    await writeFile(path.join(decoyDir, 'node'), '#!/bin/sh\necho "the decoy node ran" >&2\nexit 99\n')
    await chmod(path.join(decoyDir, 'node'), 0o755)
    const decoy = megalodon(['--version'], `${decoyDir}:${BARE_PATH}`)
    assert.deepEqual([decoy.code, decoy.stdout, decoy.stderr], [0, `megalodon (${buildConfig([]).engine} engine) ${release.version}\n`, ''])
  })

  it('uses the compile cache it ships, unpacked somewhere else than where it was built, and writes nothing into it', () => {
    const r = spawnSync('/usr/bin/env', ['-i', `PATH=${BARE_PATH}`, 'NODE_DEBUG_NATIVE=COMPILE_CACHE', path.join(root, 'bin', 'megalodon'), '--version'], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /V8 code cache for ESM \S+\/dist\/src\/cli\/megalodon\.js was accepted/)
    assert.doesNotMatch(r.stderr, /rejected|writing cache/i)
  })

  it('local: runs a compat fixture, streams its log, writes its artifacts, exits 0', async () => {
    const artifacts = await tempDir('megalodon-release-local-')
    const r = megalodon(['local', projectPath('compat-fixtures', 'generic', 'hello-world.yml'), '--artifacts', artifacts])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /Executing command 0: echo 'Hello from megalodon'\nHello from megalodon\n/)
    assert.match(r.stdout, /Resolution: completed\n$/)
    assert.equal(await readFile(path.join(artifacts, 'public', 'hello.txt'), 'utf8'), 'hello\n')
  })

  it('under worker-runner: welcome → hello, claims and runs a task with a node-pty shell, graceful-termination → exit 72', async () => {
    const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    let runner: FakeRunner | undefined
    try {
      const config = await workerConfig(fake, { enableInteractive: true })
      temporary.push(path.dirname(String(config.tasksDir)))
      // worker-runner's start of generic-worker: `<worker.path> run --config FILE
      // --with-worker-runner` (tools/worker-runner/worker/genericworker/runmethod.go:31,46), the
      // config written as JSON with mode 0600 (genericworker.go:122, as FakeRunner does)
      runner = await FakeRunner.start(config, path.dirname(String(config.tasksDir)), { command: '/usr/bin/env', args: ['-i', `PATH=${BARE_PATH}`, path.join(root, 'bin', 'megalodon')] })
      const r = runner
      r.send({ type: 'welcome', capabilities: ['graceful-termination', 'log', 'error-report', 'shutdown', 'new-credentials'] })
      const hello = await r.waitFor((m) => m.type === 'hello')
      assert.deepEqual([...(hello.capabilities as string[])].sort(), ['error-report', 'graceful-termination', 'log', 'new-credentials', 'shutdown'])

      // a task that waits for the shell: node-pty, loaded by the bundle, compiled for runtime/node
      const taskId = slugid()
      await fake.createTask(taskId, {
        payload: { command: [['sh', '-c', 'while [ ! -f done ]; do sleep 0.1; done; echo the task saw done']], maxRunTime: 60, features: { interactive: true } },
        scopes: ['generic-worker:interactive:test-provisioner/test-worker-type'],
      })
      await until(() => socketUrlOf(fake, taskId, 'private/generic-worker/shell.html') !== undefined, 60_000)
      const shell = await openShell(socketUrlOf(fake, taskId, 'private/generic-worker/shell.html')!)
      shell.type('echo "pty-$((6*7))"; touch done\r')
      await until(() => /pty-42/.test(shell.output))
      await fake.waitForResolution(taskId)
      assert.equal(fake.status(taskId).runs[0]!.state, 'completed', backingLog(fake, taskId))
      assert.match(backingLog(fake, taskId), /the task saw done/)

      r.send({ type: 'graceful-termination', 'finish-tasks': true })
      assert.equal(await r.exited, 72, r.stderr)
      assert.deepEqual(r.otherStdout, [], 'nothing but protocol lines on stdout')
    } finally {
      if (runner && runner.child.exitCode === null) runner.child.kill('SIGKILL')
      await fake.stop()
    }
  })
})

// bin/megalodon, the launcher behind `npx megalodon` and node_modules/.bin/megalodon (and the
// release's bin/megalodon): it runs the project's own Node 24 whatever `node` is first on PATH,
// or stops with one line naming the Node it needs.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmod, copyFile, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { NODE_FLAGS, projectPath } from '../../src/lib/paths.js'
import { buildConfig } from '../../src/config/config.js'

const BARE_PATH = '/usr/bin:/bin'

function launch(file: string, args: string[], pathValue: string) {
  const r = spawnSync('/usr/bin/env', ['-i', `PATH=${pathValue}`, file, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('the launcher (bin/megalodon)', function () {
  let dir: string
  let version: string
  let engines: string
  before(async () => {
    ;({ version, engines: { node: engines } } = JSON.parse(await readFile(projectPath('package.json'), 'utf8')) as { version: string; engines: { node: string } })
  })
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'launcher-'))
  })
  afterEach(async () => rm(dir, { recursive: true, force: true }))

  it('runs the command line with NODE_FLAGS, the V8 flags tests and the bench start workers with', async () => {
    // a release-shaped tree whose runtime/node only prints what it was given
    await mkdir(path.join(dir, 'bin'))
    await mkdir(path.join(dir, 'runtime'))
    await copyFile(projectPath('bin', 'megalodon'), path.join(dir, 'bin', 'megalodon'))
    await chmod(path.join(dir, 'bin', 'megalodon'), 0o755)
    await writeFile(path.join(dir, 'runtime', 'node'), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    await chmod(path.join(dir, 'runtime', 'node'), 0o755)
    const r = launch(path.join(dir, 'bin', 'megalodon'), ['run', '--config', 'x.json'], BARE_PATH)
    const root = await realpath(dir)
    assert.deepEqual(r.stdout.trim().split('\n'), [...NODE_FLAGS, path.join(root, 'dist', 'src', 'cli', 'cli.js'), 'run', '--config', 'x.json'])
  })

  it('node_modules/.bin/megalodon runs on the project’s Node, not the node first on PATH', async () => {
    // a decoy that fails whoever runs it, first on PATH (/usr/bin/node here is Debian's 20)
    await writeFile(path.join(dir, 'node'), '#!/bin/sh\necho "the decoy node ran" >&2\nexit 99\n')
    await chmod(path.join(dir, 'node'), 0o755)
    for (const pathValue of [BARE_PATH, `${dir}:${BARE_PATH}`]) {
      const r = launch(projectPath('node_modules', '.bin', 'megalodon'), ['--version'], pathValue)
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, `megalodon (${buildConfig([]).engine} engine) ${version}\n`, ''], `PATH=${pathValue}`)
    }
  })

  it('without its own Node, stops with one line naming the Node that package.json engines asks for', async () => {
    assert.match(engines, /^>=\d+$/)
    await mkdir(path.join(dir, 'bin'))
    await copyFile(projectPath('bin', 'megalodon'), path.join(dir, 'bin', 'megalodon'))
    const r = launch(path.join(dir, 'bin', 'megalodon'), ['--version'], BARE_PATH)
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    const lines = r.stderr.split('\n').filter(Boolean)
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0]!, new RegExp(`^megalodon: needs Node\\.js ${engines.slice(2)},`))
  })
})

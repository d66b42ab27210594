// Audit L7 (`megalodon local` only): artifacts.json was rewritten once per artifact (quadratic),
// an artifact name escaping the artifacts directory resolved internal-error (the payload's fault
// is malformed-payload), and a task file that does not parse printed a stack trace and exited 1,
// the code that means "failed". megalodon-only behaviour: no upstream counterpart.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { cliEntry } from '../../src/lib/paths.js'

function local(file: string, artifacts: string, config?: string) {
  const r = spawnSync(process.execPath, [cliEntry, 'local', file, '--artifacts', artifacts, ...(config ? ['--config', config] : [])], { encoding: 'utf8', timeout: 90_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('security L7: megalodon local', function () {
  this.timeout(120_000)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-l7-'))
  const config = path.join(dir, 'config.json')
  writeFileSync(config, JSON.stringify({ engine: 'insecure', tasksDir: path.join(dir, 'tasks'), downloadsDir: path.join(dir, 'dl'), cachesDir: path.join(dir, 'caches') }))

  it('an artifact name that escapes the artifacts directory is malformed-payload (exit 2), not internal-error', () => {
    const file = path.join(dir, 'escape.json')
    writeFileSync(file, JSON.stringify({ command: [['sh', '-c', 'echo x > a.txt']], maxRunTime: 30, artifacts: [{ type: 'file', path: 'a.txt', name: '../../../escaped-name.txt' }] }))
    const r = local(file, path.join(dir, 'out-escape'), config)
    assert.match(r.stdout, /Resolution: exception \(malformed-payload\)/, r.stdout + r.stderr)
    assert.equal(r.code, 2)
  })

  it('a task file that does not parse: one line on stderr and exit 64, no stack trace', () => {
    const file = path.join(dir, 'broken.json')
    writeFileSync(file, '{"command": [["true"]], "maxRunTime": ')
    const r = local(file, path.join(dir, 'out-broken'))
    assert.equal(r.code, 64)
    assert.match(r.stderr, /^megalodon: cannot read the task in .*broken\.json: /)
    assert.doesNotMatch(r.stderr, /\n\s+at /)
  })

  it('artifacts.json lists every artifact of a 2000-file directory, written once after the run', () => {
    const file = path.join(dir, 'many.json')
    writeFileSync(file, JSON.stringify({ command: [['sh', '-c', 'mkdir d; i=0; while [ $i -lt 2000 ]; do echo $i > d/f$i; i=$((i+1)); done']], maxRunTime: 60, artifacts: [{ type: 'directory', path: 'd', name: 'public/d' }] }))
    const out = path.join(dir, 'out-many')
    const r = local(file, out, config)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const index = JSON.parse(readFileSync(path.join(out, 'artifacts.json'), 'utf8')) as Array<{ name: string }>
    assert.equal(index.filter((e) => e.name.startsWith('public/d/')).length, 2000)
    assert.ok(index.some((e) => e.name === 'public/logs/live_backing.log'))
  })
})

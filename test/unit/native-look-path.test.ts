// How generic-worker finds a command's file: Go's exec.Command + LookPath on the worker's PATH
// (process/insecure.go:46, process/multiuser_posix.go:89; Go os/exec lp_unix.go, exec.go
// Command/Start; the ErrDot expectations of Go's os/exec dot_test.go).
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execName, goLookPath } from '../../executors/native/look-path.js'

describe('native command lookup (Go exec.LookPath on the worker’s PATH)', () => {
  let root: string
  const exe = (dir: string, name: string, mode = 0o755) => {
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, name), '#!/bin/sh\n')
    chmodSync(path.join(dir, name), mode)
  }
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'megalodon-lookpath-'))
  })

  it('takes the first PATH entry holding a regular file the worker may execute, skipping directories and non-executable files (lp_unix.go findExecutable)', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((d) => path.join(root, d))
    mkdirSync(path.join(a!, 'tool'), { recursive: true }) // a directory named like it
    exe(b!, 'tool', 0o644) // not executable
    exe(c!, 'tool')
    assert.deepEqual(goLookPath('tool', [a, b, c].join(':')), { file: path.join(c!, 'tool') })
  })

  it('joins entries as filepath.Join does (cleaned)', () => {
    exe(path.join(root, 'bin'), 'tool')
    assert.deepEqual(goLookPath('tool', `${root}/x/../bin/`), { file: path.join(root, 'bin', 'tool') })
  })

  it('fails a name on no entry with exec.ErrNotFound, quoted as %q; an empty or missing PATH has no entries (filepath.SplitList)', () => {
    const notFound = { error: 'exec: "tool": executable file not found in $PATH' }
    assert.deepEqual(goLookPath('tool', root), notFound)
    assert.deepEqual(goLookPath('tool', ''), notFound)
    assert.deepEqual(goLookPath('tool', undefined), notFound)
    assert.deepEqual(goLookPath('to"ol', root), { error: 'exec: "to\\"ol": executable file not found in $PATH' })
  })

  it('refuses a file found through a relative or empty entry with exec.ErrDot (Go ≥ 1.19, dot_test.go), relative to the worker’s directory', () => {
    exe(path.join(root, 'rel'), 'tool')
    exe(root, 'here')
    const cwd = process.cwd()
    process.chdir(root)
    try {
      const dot = (name: string) => ({ error: `exec: "${name}": cannot run executable found relative to current directory` })
      assert.deepEqual(goLookPath('tool', 'rel'), dot('tool'))
      assert.deepEqual(goLookPath('here', ':/nonexistent'), dot('here')) // "" means "."
      assert.deepEqual(goLookPath('here', '.'), dot('here'))
    } finally {
      process.chdir(cwd)
    }
  })

  it('runs a name with a slash as it is, and never finds "", "." or ".." (exec.Command, validateLookPath)', () => {
    assert.deepEqual(goLookPath('./x', '/usr/bin'), { file: './x' })
    assert.deepEqual(goLookPath('/no/such', '/usr/bin'), { file: '/no/such' })
    assert.deepEqual(goLookPath('', '/usr/bin'), { error: 'exec: no command' })
    mkdirSync(path.join(root, 'sub'))
    assert.deepEqual(goLookPath('.', root), { error: 'exec: ".": executable file not found in $PATH' })
    assert.deepEqual(goLookPath('..', path.join(root, 'sub')), { error: 'exec: "..": executable file not found in $PATH' })
  })

  // exec.Command's Args[0] is the name as given; a child that looks the name up again (setpriv's
  // execvp on the task's PATH) gets it only where that lookup lands on the same file
  it('hands a re-looking child the bare name only when the child’s PATH finds the same file first', () => {
    const [w, t] = ['worker', 'task'].map((d) => path.join(root, d))
    exe(w!, 'tool')
    exe(t!, 'tool')
    const file = path.join(w!, 'tool')
    assert.equal(execName('tool', file, `/nonexistent:${w}:${t}`), 'tool')
    assert.equal(execName('tool', file, `${t}:${w}`), file, 'the child would find another file first')
    assert.equal(execName('tool', file, `rel:${w}`), file, 'a relative entry is the task directory’s')
    assert.equal(execName('tool', file, `:${w}`), file, 'an empty entry too (glibc: the current directory)')
    assert.equal(execName('tool', file, `${w}/`), file, 'glibc would exec an uncleaned path')
    assert.equal(execName('tool', file, undefined), file)
    assert.equal(execName('tool', file, '/nonexistent'), file)
    assert.equal(execName('./tool', './tool', w), './tool')
  })
})

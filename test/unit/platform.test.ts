// The platform seam: what Linux, macOS and Windows do differently with a payload. Linux runs for
// real in the other tests; macOS and Windows are verified here only (see the README).
import assert from 'node:assert/strict'
import { escapeForCmd, platforms } from '../../executors/native/platform.js'

describe('platform seam', () => {
  it('posix: commands are argv arrays, shown as taskcluster/shell escapes them, spawned as they are', () => {
    for (const p of [platforms.linux, platforms.darwin]) {
      const c = p.prepareCommand(['echo', 'one two', "it's"], 0, '/tasks/t')
      assert.deepEqual(c.argv, ['echo', 'one two', "it's"])
      assert.equal(c.display, "echo 'one two' it\\'s")
      assert.deepEqual(c.files, {})
    }
  })

  it('posix: paths resolve against the task directory; backslashes are kept; absolute stays absolute', () => {
    assert.equal(platforms.linux.resolvePath('/tasks/t', 'out/a.txt'), '/tasks/t/out/a.txt')
    // fileutil.AbsFrom: on posix a backslash is part of the name (generic-worker converts only on Windows, artifact_feature.go:388-393)
    assert.equal(platforms.darwin.resolvePath('/tasks/t', 'out\\a.txt'), '/tasks/t/out\\a.txt')
    assert.equal(platforms.linux.canonicalName('out\\a.txt'), 'out\\a.txt')
    assert.equal(platforms.windows.canonicalName('out\\a.txt'), 'out/a.txt')
    assert.equal(platforms.linux.resolvePath('/tasks/t', '/var/log/x'), '/var/log/x')
  })

  it('windows: each command line gets its own .bat, run by a wrapper that carries the environment on', () => {
    const dir = 'C:\\tasks\\task_1'
    const first = platforms.windows.prepareCommand('set FOO=bar', 0, dir)
    assert.deepEqual(first.argv, ['cmd.exe', '/d', '/c', 'C:\\tasks\\task_1\\command_000000_wrapper.bat'])
    assert.equal(first.display, 'set FOO=bar')
    assert.equal(first.files['C:\\tasks\\task_1\\command_000000.bat'], '@echo on\r\nset FOO=bar\r\n')
    const wrapper0 = first.files['C:\\tasks\\task_1\\command_000000_wrapper.bat']!
    assert.doesNotMatch(wrapper0, /for \/f/, 'the first command starts from the task environment')
    assert.match(wrapper0, /^@echo off\r\ncd \/d "C:\\tasks\\task_1"\r\ncall "C:\\tasks\\task_1\\command_000000.bat"\r\n/)
    assert.match(wrapper0, /set > "C:\\tasks\\task_1\\env_000000.txt"\r\nexit \/b %MEGALODON_EXIT_CODE%\r\n$/)
    const second = platforms.windows.prepareCommand('echo %FOO%', 1, dir)
    const wrapper1 = second.files['C:\\tasks\\task_1\\command_000001_wrapper.bat']!
    assert.match(wrapper1, /for \/f "usebackq delims=" %%v in \("C:\\tasks\\task_1\\env_000000.txt"\) do set "%%v"/, 'loads what the previous command left')
    assert.ok(Object.values(second.files).every((content) => content.split('\r\n').every((l, i, all) => i === all.length - 1 || !l.includes('\n'))), 'CRLF line ends only')
  })

  it('windows: paths use backslashes; drive and UNC paths are absolute', () => {
    assert.equal(platforms.windows.resolvePath('C:\\tasks\\t', 'out/a.txt'), 'C:\\tasks\\t\\out\\a.txt')
    assert.equal(platforms.windows.resolvePath('C:\\tasks\\t', 'D:\\builds\\x.zip'), 'D:\\builds\\x.zip')
    assert.equal(platforms.windows.resolvePath('C:\\tasks\\t', '\\\\server\\share\\f'), '\\\\server\\share\\f')
  })

  it('windows: cmd.exe metacharacters are escaped for scripts', () => {
    assert.equal(escapeForCmd('100% & <more> | (x) ^'), '100%% ^& ^<more^> ^| ^(x^) ^^')
  })

  it('features that exist on one platform only', () => {
    assert.ok(platforms.linux.supports('loopbackVideo') && platforms.linux.supports('loopbackAudio'))
    assert.ok(!platforms.darwin.supports('loopbackVideo'))
    assert.ok(!platforms.windows.supports('loopbackAudio'))
    for (const f of ['runAsAdministrator', 'hideCmdWindow', 'rdpInfo'] as const) {
      assert.ok(platforms.windows.supports(f))
      assert.ok(!platforms.linux.supports(f))
    }
    assert.deepEqual(platforms.windows.shell(), ['powershell.exe'])
  })
})

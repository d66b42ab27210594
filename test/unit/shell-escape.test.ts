// `Executing command N: …` as generic-worker prints it: github.com/taskcluster/shell's Escape
// (workers/generic-worker/main.go:1077). Every case and expected line is that library's own
// example test, shell_test.go ExampleEscape_basic.
import assert from 'node:assert/strict'
import { shellEscape } from '../../executors/native/shell-escape.js'

const cases: Array<[string[], string]> = [
  [['echo', 'hello!', 'how are you doing $USER', '"double"', "'single'"], `echo 'hello!' 'how are you doing $USER' '"double"' \\'single\\'`],
  [["'''"], "\\'\\'\\'"],
  [["'>''"], "\\''>'\\'\\'"],
  [
    ['curl', '-v', '-H', 'Location;', '-H', 'User-Agent: dave#10', 'http://www.daveeddy.com/?name=dave&age=24'],
    "curl -v -H 'Location;' -H 'User-Agent: dave#10' 'http://www.daveeddy.com/?name=dave&age=24'",
  ],
  [['echo', 'hello\\\\nworld'], "echo 'hello\\\\nworld'"],
  [['echo', 'hello:world'], 'echo hello:world'],
  [['echo', '--hello=world'], 'echo --hello=world'],
  [['echo', 'hello\\\\tworld'], "echo 'hello\\\\tworld'"],
  [['echo', "\\thello\\nworld'"], "echo '\\thello\\nworld'\\'"],
  [['echo', 'hello  world'], "echo 'hello  world'"],
  [['echo', 'hello', 'world'], 'echo hello world'],
  [['echo', "hello\\\\'", "'\\\\'world"], "echo 'hello\\\\'\\' \\''\\\\'\\''world'"],
  [['echo', 'hello', 'world\\'], "echo hello 'world\\'"],
  [['abc', '', 'def'], "abc '' def"],
]

describe('command display (taskcluster/shell Escape, shell_test.go ExampleEscape_basic)', () => {
  for (const [args, want] of cases) {
    it(want, () => assert.equal(shellEscape(args), want))
  }
  it('leaves paths and underscores bare (its safe set: letters, digits, _/:=-\')', () => {
    assert.equal(shellEscape(['/usr/bin/env', 'run_tests', "it's"]), "/usr/bin/env run_tests it\\'s")
    // a dot is not in the set: shell.go's safeChars
    assert.equal(shellEscape(['./run.sh', 'a.b', 'x,y', 'u@h', '50%', 'a+b']), "'./run.sh' 'a.b' 'x,y' 'u@h' '50%' 'a+b'")
  })
})

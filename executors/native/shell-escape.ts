// How generic-worker shows a command in `Executing command N: …`: each argument escaped as
// github.com/taskcluster/shell's Escape does (main.go:1077, insecure.go:84-86), joined by spaces.
// An argument of only letters, digits and `_/:=-'` is bare, its quotes backslashed; any other is
// single-quoted (a quote inside becoming '\''), with the empty '' a leading or doubled quote
// leaves behind removed. Not a quoting a shell must parse back: the exact text upstream prints.

const bare = /^[A-Za-z0-9_/:=\-']*$/u

function escapeOne(arg: string): string {
  if (arg === '') return "''"
  if (bare.test(arg)) return arg.replaceAll("'", "\\'")
  let out = `'${arg.replaceAll("'", "'\\''")}'`
  if (out.startsWith("''")) out = out.slice(2)
  return out.replaceAll("\\'''", "\\'")
}

export function shellEscape(args: readonly string[]): string {
  return args.map(escapeOne).join(' ')
}

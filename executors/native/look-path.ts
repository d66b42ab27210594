// Which file a command runs, found as generic-worker finds it: Go's exec.Command looks a bare
// name up with os/exec.LookPath, which reads the *worker process's* PATH (os.Getenv), never the
// task's environment (process/insecure.go:46, process/multiuser_posix.go:89: exec.Command; Go
// os/exec lp_unix.go). A payload's PATH only changes what the command itself looks up.
//
// Node's spawn (and node-pty, and setpriv's execvp) would search the PATH of the environment
// handed to the child, which the payload sets: on the multiuser engine a task could then put its
// own `setpriv` first on PATH and have the worker, root, run it. So everything the native engine
// starts is resolved here first and spawned by absolute path.

import { accessSync, constants, statSync } from 'node:fs'
import path from 'node:path'
import { goQuote } from '../../src/lib/go-quote.js'

/** A file to execute, or the error Go's exec.Cmd.Start returns instead of starting anything. */
export type Lookup = { file: string } | { error: string }

/** Go's exec.ErrNotFound and exec.ErrDot texts (lp_unix.go, exec.go). */
const NOT_FOUND = 'executable file not found in $PATH'
const DOT = 'cannot run executable found relative to current directory'

/**
 * Go's exec.Command(name) then Start, on Linux (Go 1.27, what generic-worker's Dockerfile.test
 * builds with): a name with a slash is run as it is (relative to the command's directory); ""
 * is "exec: no command"; any other name is looked up in `searchPath` (the worker's PATH):
 * an empty entry means ".", the first regular file the worker may execute wins, and one found
 * through a relative entry is refused (ErrDot, the default since Go 1.19). "." and ".." are never
 * found (validateLookPath, CVE-2025-47906). Relative entries are taken from the worker's own
 * working directory, as Go's os.Stat takes them.
 */
export function goLookPath(name: string, searchPath: string | undefined): Lookup {
  if (name === '') return { error: 'exec: no command' }
  // Go's Windows lookup (PATHEXT, `;`, lp_windows.go) is not written yet: there the name is left
  // to spawn as before, which searches the PATH of the environment it is given
  if (process.platform === 'win32') return { file: name }
  if (name.includes('/')) return { file: name }
  const failed = (why: string): Lookup => ({ error: `exec: ${goQuote(name)}: ${why}` })
  if (name === '.' || name === '..') return failed(NOT_FOUND)
  // filepath.SplitList: "" is no entry at all, not one empty entry
  const dirs = searchPath ? searchPath.split(':') : []
  for (const dir of dirs) {
    const candidate = path.join(dir === '' ? '.' : dir, name)
    if (!isExecutableFile(candidate)) continue
    return path.isAbsolute(candidate) ? { file: candidate } : failed(DOT)
  }
  return failed(NOT_FOUND)
}

/**
 * What to hand a program that looks its target up itself on the PATH of the environment it is
 * given (setpriv's and node-pty's execvp) once `file` is known to be what Go would run: the bare
 * name when that lookup lands on exactly `file` too, so the command sees the name as its argv[0]
 * as under Go (exec.Command's Args[0]; bash prints it in its own errors); otherwise `file`.
 * Only absolute, clean entries are followed: a relative one would be taken from the task
 * directory, and glibc joins entries without cleaning them.
 */
export function execName(name: string, file: string, childPath: string | undefined): string {
  if (name === '' || name.includes('/') || childPath === undefined) return file
  for (const dir of childPath.split(':')) {
    const candidate = `${dir}/${name}`
    if (!path.isAbsolute(dir) || path.join(dir, name) !== candidate) return file
    if (isExecutableFile(candidate)) return candidate === file ? name : file
  }
  return file
}

/** Go's findExecutable (lp_unix.go): not a directory, and executable for the worker (access X_OK, or any x bit where access cannot tell). */
function isExecutableFile(file: string): boolean {
  let mode: number
  try {
    const st = statSync(file)
    if (st.isDirectory()) return false
    mode = st.mode
  } catch {
    return false
  }
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch (err) {
    // ENOSYS: no such check on this kernel; EPERM: refused by a seccomp filter (containers)
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOSYS' || code === 'EPERM') return (mode & 0o111) !== 0
    return false
  }
}

/**
 * A tool the worker itself runs (setpriv…), found with the worker's PATH only; a tool that is
 * missing is an error here, never a name left for the child's environment to resolve.
 */
export function workerTool(name: string): string {
  const found = goLookPath(name, process.env.PATH)
  if ('error' in found) throw new Error(`the worker cannot run ${name}: ${found.error}`)
  return found.file
}

// Runs one command of a generic-worker payload: a direct exec (no shell) in its own process
// group, output into the task log in order, the whole group killed (SIGKILL, at once, as
// generic-worker kills) when the run is aborted.

import { spawn, type ChildProcess } from 'node:child_process'
import type net from 'node:net'
import { readFileSync } from 'node:fs'
import type { TaskLog } from '../../src/lib/task-log.js'
import { goSignalExit } from '../../src/lib/go-signals.js'
import type { CommandResult } from './log.js'
import { execName, goLookPath } from './look-path.js'
import { outputPipe } from './output-pipe.js'

export interface RunCommandOptions {
  argv: string[]
  cwd: string
  env: Record<string, string>
  log: TaskLog
  signal: AbortSignal
  /**
   * Seconds between SIGTERM and SIGKILL for the process group. 0 (the default) kills at once
   * with SIGKILL, as generic-worker does (process/posix.go:70-99: kill(-pid, SIGKILL)).
   */
  graceSecs: number
  /** Told the process group id as soon as the command started (for cleanup after a crash). */
  onStarted?: (pgid: number) => void
  /** Runs argv through this (the multiuser engine's `setpriv …` as the task user). */
  wrap?: (argv: string[]) => string[]
}

/**
 * CPU time of reaped children of this process, from /proc/self/stat (cutime, cstime), in ms.
 * Node does not expose a child's rusage; the difference around one command is that command's
 * time (when commands of several tasks overlap, it is their sum: an approximation).
 */
function childCpuMs(): { user: number; kernel: number } {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticksToMs = 1000 / 100 // USER_HZ is 100 on Linux
    return { user: Number(fields[13]) * ticksToMs, kernel: Number(fields[14]) * ticksToMs }
  } catch {
    return { user: 0, kernel: 0 }
  }
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig)
  } catch {
    // already gone
  }
}

export async function runCommand(options: RunCommandOptions): Promise<CommandResult> {
  const { argv, log, signal } = options
  const cpuBefore = childCpuMs()
  const started = performance.now()
  const finish = (partial: Partial<CommandResult> & { exitCode: number }): CommandResult => {
    const cpuAfter = childCpuMs()
    return {
      aborted: false,
      userMs: cpuAfter.user - cpuBefore.user,
      kernelMs: cpuAfter.kernel - cpuBefore.kernel,
      wallMs: performance.now() - started,
      ...partial,
    }
  }
  if (signal.aborted) return finish({ exitCode: -4, aborted: true })

  // exec.Command: a bare name is found with the worker's PATH, not the task's (look-path.ts);
  // one that is not found never starts (process/process.go:127-129 reports Start's error)
  const found = goLookPath(argv[0]!, process.env.PATH)
  if ('error' in found) return finish({ exitCode: -2, systemError: found.error })
  // Go passes the name as given as argv[0] (exec.Command's Args[0]): Node can (argv0); setpriv
  // cannot, so it gets the name only where its own lookup on the task's PATH finds the same file
  const spawned = options.wrap ? options.wrap([execName(argv[0]!, found.file, options.env.PATH), ...argv.slice(1)]) : [found.file, ...argv.slice(1)]
  // stdout and stderr are one pipe, as generic-worker's (output-pipe.ts)
  const pipe = await outputPipe()
  // aborted while the pipe was made: the abort listener below would never hear of it
  if (signal.aborted) {
    pipe.abandon()
    return finish({ exitCode: -4, aborted: true })
  }
  let child: ChildProcess
  try {
    child = spawn(spawned[0]!, spawned.slice(1), {
      cwd: options.cwd,
      env: options.env,
      ...(options.wrap ? {} : { argv0: argv[0]! }),
      detached: true, // own process group, so an abort reaches every descendant
      stdio: ['ignore', pipe.writer, pipe.writer],
    })
  } catch (err) {
    pipe.abandon()
    // spawn throws at once on a NUL byte in an argument or env value (and can on E2BIG): the
    // command could not start, which generic-worker reports as the task failing — its
    // process.Result.SystemError counts as Failed() on POSIX (process/posix.go:19, :52).
    return finish({ exitCode: -2, systemError: goStartError(err as NodeJS.ErrnoException, found.file) })
  }
  const output = pipe.started()
  // a read error ends the output; it must not end the worker
  output.on('error', () => output.destroy())
  if (child.pid !== undefined) options.onStarted?.(child.pid)
  log.follow(output)

  let killTimer: NodeJS.Timeout | undefined
  const onAbort = () => {
    if (child.pid === undefined) return
    if (options.graceSecs <= 0) return killGroup(child.pid, 'SIGKILL')
    killGroup(child.pid, 'SIGTERM')
    killTimer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), options.graceSecs * 1000)
  }
  signal.addEventListener('abort', onAbort, { once: true })

  try {
    const outcome = await new Promise<{ code: number | null; signal?: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, error }))
      child.once('exit', (code, sig) => resolve({ code, signal: sig }))
    })
    if (outcome.error) return finish({ exitCode: -2, systemError: goStartError(outcome.error as NodeJS.ErrnoException, found.file) })
    // Output still in the pipes belongs before the result block; a background process that
    // keeps the pipes open must not hold the task, so wait only briefly.
    await streamClosed(output, 1000)
    if (signal.aborted) return finish({ exitCode: -4, aborted: true })
    // Go reports -1 for a process killed by a signal (process/process.go:61-63), and its
    // ExitError reads "signal: killed"
    if (outcome.code === null) return finish({ exitCode: -1, ...(outcome.signal ? { signal: goSignalExit(outcome.signal) } : {}) })
    return finish({ exitCode: outcome.code })
  } finally {
    signal.removeEventListener('abort', onAbort)
    if (killTimer) clearTimeout(killTimer)
    // After an abort nothing of the group may outlive the command, even what ignored SIGTERM.
    if (signal.aborted && child.pid !== undefined) killGroup(child.pid, 'SIGKILL')
  }
}

/**
 * The error Go's os.StartProcess returns for a file that cannot start (process/process.go:127-129):
 * fork/exec's, naming the file as resolved (a bare name that is not found never gets here: look-path.ts).
 */
export function goStartError(err: NodeJS.ErrnoException, file: string): string {
  const text: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOEXEC: 'exec format error', ENOTDIR: 'not a directory', E2BIG: 'argument list too long' }
  const why = err.code !== undefined ? text[err.code] : undefined
  return why ? `fork/exec ${file}: ${why}` : err.message
}

async function streamClosed(stream: net.Socket, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const closed = stream.closed ? Promise.resolve() : new Promise<void>((r) => stream.once('close', () => r()))
  await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))])
  clearTimeout(timer)
  stream.destroy()
}

// A command the worker runs on the host for itself (kernel modules, device permissions), the way
// generic-worker's host package runs one (host/host.go:14-24): by absolute path, stdout and
// stderr together, and a failure in the words of Go's os/exec ("exit status 1",
// "fork/exec /usr/sbin/modprobe: no such file or directory").

import { spawn } from 'node:child_process'
import { goSignalExit } from '../../src/lib/go-signals.js'
import { goStartError } from './command.js'

export interface HostCommandResult {
  /** stdout and stderr as they came, cut at the first `maxOutputBytes`. */
  output: string
  /** Set when the command did not start or did not exit 0. */
  error?: string
}

export function runHostCommand(file: string, args: readonly string[], maxOutputBytes = 64 * 1024): Promise<HostCommandResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let kept = 0
    const keep = (chunk: Buffer) => {
      if (kept >= maxOutputBytes) return
      chunks.push(chunk.subarray(0, maxOutputBytes - kept))
      kept += Math.min(chunk.length, maxOutputBytes - kept)
    }
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const output = () => Buffer.concat(chunks).toString('utf8')
    child.once('error', (err: NodeJS.ErrnoException) => resolve({ output: output(), error: goStartError(err, file) }))
    child.once('close', (code, signal) => {
      if (code === 0) resolve({ output: output() })
      else resolve({ output: output(), error: code === null ? goSignalExit(signal ?? 'SIGKILL') : `exit status ${code}` })
    })
  })
}

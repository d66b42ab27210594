// A terminal inside a task's environment, for the interactive feature: whatever opens it (a
// pseudo-terminal on the host, a `docker exec` with a TTY), the feature sees this shape.

import type { Terminal, TerminalSize } from '../contract/terminal.js'

/**
 * A pseudo-terminal on this host (node-pty), for native tasks. node-pty is loaded with the first
 * terminal: most workers never open one.
 */
export async function openPty(command: string[], options: { cwd: string; env: Record<string, string>; size: TerminalSize }): Promise<Terminal> {
  const { default: pty } = await import('node-pty')
  const [file, ...args] = command
  const child = pty.spawn(file!, args, { name: 'xterm-256color', cols: options.size.cols, rows: options.size.rows, cwd: options.cwd, env: options.env, encoding: null })
  let exited = false
  return {
    write: (data) => child.write(data),
    resize: ({ cols, rows }) => {
      if (!exited) child.resize(cols, rows)
    },
    // with `encoding: null` node-pty hands over Buffers
    onData: (listener) => void child.onData((d) => listener(Buffer.isBuffer(d) ? d : Buffer.from(d))),
    onExit: (listener) =>
      void child.onExit(({ exitCode }) => {
        exited = true
        listener(exitCode)
      }),
    pause: () => child.pause(),
    resume: () => child.resume(),
    kill: () => {
      if (!exited) child.kill('SIGHUP')
    },
  }
}

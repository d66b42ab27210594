// Plays worker-runner: spawns `megalodon run --config FILE --with-worker-runner` with the
// protocol on its stdin/stdout, records every message, and sends runner messages. By default
// megalodon is the compiled tree on this process's Node; a `launcher` starts another one (the
// release tarball's bin/megalodon) as worker-runner does: `<path> run --config FILE …`.
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { RawConfig } from '../../src/config/config.js'
import { cliEntry } from '../../src/lib/paths.js'

export interface Message {
  type: string
  [k: string]: unknown
}

/** How megalodon is started: `command args… run --config FILE --with-worker-runner`, in `env` (default: this process's). */
export interface Launcher {
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
}

export class FakeRunner {
  readonly messages: Message[] = []
  readonly otherStdout: string[] = []
  stderr = ''
  readonly child: ChildProcess
  readonly exited: Promise<number | null>

  private constructor(configFile: string, launcher: Launcher) {
    this.child = spawn(launcher.command, [...launcher.args, 'run', '--config', configFile, '--with-worker-runner'], { stdio: ['pipe', 'pipe', 'pipe'], env: launcher.env, cwd: path.dirname(configFile) })
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (line.startsWith('~{')) this.messages.push(JSON.parse(line.slice(1)) as Message)
      else this.otherStdout.push(line)
    })
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()))
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
  }

  /** Writes the config as worker-runner does (JSON, mode 0600) and starts the worker. */
  static async start(config: RawConfig, dir: string, launcher: Launcher = { command: process.execPath, args: [cliEntry] }): Promise<FakeRunner> {
    const file = path.join(dir, 'generic-worker.config')
    await writeFile(file, JSON.stringify(config), { mode: 0o600 })
    return new FakeRunner(file, launcher)
  }

  send(message: Message): void {
    this.child.stdin!.write(`~${JSON.stringify(message)}\n`)
  }

  async waitFor(predicate: (m: Message) => boolean, timeoutMs = 20_000): Promise<Message> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const found = this.messages.find(predicate)
      if (found) return found
      if (Date.now() > end) throw new Error(`no such message; got ${JSON.stringify(this.messages.map((m) => m.type))}\n${this.stderr}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }
}

// The interactive server's framing, with a terminal that records what it is given: generic-worker's
// protocol (interactive/interactivejob.go:14-17,82,119-148; interactive.go:52-64), driven by the
// UI's client (test/helpers/shell-client.ts, after ui/src/components/Shell/index.jsx:56-110).
import assert from 'node:assert/strict'
import http from 'node:http'
import type { Terminal, TerminalSize } from '../../src/contract/terminal.js'
import { InteractiveServer } from '../../src/servers/interactive-server.js'
import { openShell } from '../helpers/shell-client.js'
import { until } from '../helpers/tasks.js'

class RecordingTerminal implements Terminal {
  readonly written: Buffer[] = []
  readonly sizes: TerminalSize[] = []
  killed = false
  private data?: (d: Buffer) => void
  private exit?: (code: number) => void
  write(data: Buffer): void {
    this.written.push(Buffer.from(data))
  }
  resize(size: TerminalSize): void {
    this.sizes.push(size)
  }
  onData(listener: (d: Buffer) => void): void {
    this.data = listener
  }
  onExit(listener: (code: number) => void): void {
    this.exit = listener
  }
  pause(): void {}
  resume(): void {}
  kill(): void {
    this.killed = true
  }
  emit(d: Buffer): void {
    this.data?.(d)
  }
  end(): void {
    this.exit?.(0)
  }
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    }).on('error', reject)
  })
}

describe('interactive server (generic-worker’s v=2 framing)', () => {
  let server: InteractiveServer
  let port: number
  beforeEach(async () => {
    server = new InteractiveServer()
    port = await server.start('127.0.0.1', 0)
  })
  afterEach(() => server.stop())

  it('applies the size the page sends on open, even before the terminal is up; type 1 is input, other types are ignored', async () => {
    const terminal = new RecordingTerminal()
    let openTerminal!: () => void
    const opened = new Promise<void>((r) => (openTerminal = r))
    server.serve('tok', async () => {
      await opened // the terminal opens only after the page has sent its size
      return terminal
    })
    const shell = await openShell(`ws://127.0.0.1:${port}/shell/tok`, { width: 132, height: 43 })
    shell.type('ls\r')
    // let the messages reach the server while the terminal is not up (if they come later, they
    // go straight to it: the assertions hold either way)
    await new Promise((r) => setTimeout(r, 50))
    openTerminal()
    await until(() => terminal.written.length === 1)
    assert.deepEqual(terminal.sizes, [{ rows: 43, cols: 132 }], 'rows from bytes 1-2, columns from 3-4 (interactivejob_posix.go:223-228)')
    assert.equal(terminal.written[0]!.toString(), 'ls\r')
    shell.ws.send(new Uint8Array([2, 5])) // too short: ignored (interactivejob.go:125-127)
    shell.ws.send(new Uint8Array([2, 0, 0, 80, 0])) // 0 rows: ignored (security M1)
    shell.ws.send(new Uint8Array([0, 0x61])) // docker-exec's stdin: not a v=2 type, ignored
    shell.ws.send(new Uint8Array([110, 10, 0, 10, 0])) // docker-exec's resize: ignored
    shell.type('é\r')
    await until(() => terminal.written.length === 2)
    assert.deepEqual(terminal.written[1], Buffer.from('é\r'))
    assert.deepEqual(terminal.sizes, [{ rows: 43, cols: 132 }])

    // the terminal's bytes arrive raw, in binary messages (interactivejob.go:82)
    terminal.emit(Buffer.from([0xff, 0x00, 0x41]))
    await until(() => shell.received.length === 1)
    assert.deepEqual(shell.received[0], Buffer.from([0xff, 0x00, 0x41]))
    terminal.end()
    await shell.closed
  })

  it('reports a terminal that cannot start as text, then closes (interactivejob_posix.go:33)', async () => {
    server.serve('tok', async () => {
      throw new Error('the task is over')
    })
    const shell = await openShell(`ws://127.0.0.1:${port}/shell/tok`)
    await shell.closed
    assert.equal(shell.output, 'Error while spawning command the task is over')
  })

  it('closes its sessions when the task ends, and the terminal goes with them', async () => {
    const terminal = new RecordingTerminal()
    server.serve('tok', async () => terminal)
    const shell = await openShell(`ws://127.0.0.1:${port}/shell/tok`)
    await until(() => terminal.sizes.length === 1)
    server.close('tok')
    await shell.closed
    await until(() => terminal.killed)
  })

  it('answers plain requests as generic-worker’s mux and upgrader do (interactive.go:52-64)', async () => {
    server.serve('tok', async () => new RecordingTerminal())
    assert.deepEqual(await get(port, '/shell/wrong'), { status: 401, body: 'Access denied\n' })
    assert.equal((await get(port, '/shell/tok')).status, 400)
    assert.equal((await get(port, '/elsewhere')).status, 404)
  })
})

// A shell session as the Taskcluster UI's shell page holds it: a websocket client of the
// worker's interactive server, found through the secret URL in the task's shell artifact.
import WebSocket from 'ws'
import { MSG } from '../../src/servers/interactive-server.js'
import type { FakeQueue } from './fake-queue/index.js'

export class ShellClient {
  output = ''
  exitCode: number | undefined
  shutdown = false
  readonly ready: Promise<void>
  readonly closed: Promise<void>
  constructor(readonly ws: WebSocket) {
    this.ready = new Promise((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        if (data[0] === MSG.resume) resolve()
        else if (data[0] === MSG.stdout || data[0] === MSG.stderr) this.output += data.subarray(1).toString()
        else if (data[0] === MSG.stopped) this.exitCode = data[1]
        else if (data[0] === MSG.shutdown) this.shutdown = true
        else if (data[0] === MSG.error) reject(new Error(data.subarray(1).toString()))
      })
      ws.once('error', reject)
    })
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()))
  }
  type(text: string): void {
    this.ws.send(Buffer.concat([Buffer.from([MSG.stdin]), Buffer.from(text)]))
  }
  resize(rows: number, cols: number): void {
    const msg = Buffer.alloc(5)
    msg[0] = MSG.resize
    msg.writeUInt16LE(rows, 1)
    msg.writeUInt16LE(cols, 3)
    this.ws.send(msg)
  }
}

/** The websocket URL inside the UI link of the shell artifact. */
export function socketUrlOf(fake: FakeQueue, taskId: string, name: string): string | undefined {
  const artifact = fake.artifacts(taskId).get(name)
  if (!artifact?.url) return undefined
  return new URL(artifact.url).searchParams.get('socketUrl') ?? undefined
}

export async function openShell(url: string): Promise<ShellClient> {
  const client = new ShellClient(new WebSocket(url))
  await client.ready
  return client
}

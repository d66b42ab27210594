// A shell session exactly as the current Taskcluster UI's shell page holds one
// (ui/src/components/Shell/index.jsx, the `v=2` branch, lines 56-110), with the WebSocket a
// browser has (Node's global one): it reads the link in the task's shell artifact, connects to
// its socketUrl, and then
// - on open, sends the terminal's size (index.jsx:92-96) as the UI's resize message: type 2,
//   then the height (rows) and the width (columns), 16-bit little-endian (index.jsx:69-78);
// - sends each keystroke or pasted string as type 1 and its UTF-8 bytes (index.jsx:60-67);
// - shows text messages as they are and binary ones decoded as UTF-8, not fatally
//   (index.jsx:7,80-90).
import type { FakeQueue } from './fake-queue/index.js'

/** ui/src/components/Shell/index.jsx:9-10 ("Keep these in sync with the go code"). */
const MSG_PTY_DATA = 1
const MSG_RESIZE_DATA = 2
const DECODER = new TextDecoder('utf-8', { fatal: false })

/** hterm's screen size before anything resizes it, in this test client. */
const SCREEN = { width: 80, height: 24 }

export class ShellClient {
  /** What the page's terminal shows. */
  output = ''
  /** Every binary message, as received. */
  readonly received: Buffer[] = []
  readonly ws: WebSocket
  /** The socket opened (and the size was sent); rejected when it never opens. */
  readonly ready: Promise<void>
  /** The socket closed, whichever side closed it. */
  readonly closed: Promise<void>

  constructor(url: string, screen = SCREEN) {
    this.ws = new WebSocket(url)
    this.ws.binaryType = 'arraybuffer'
    this.ready = new Promise((resolve, reject) => {
      this.ws.onopen = () => {
        this.terminalResize(screen.width, screen.height)
        resolve()
      }
      this.ws.onerror = (event) => reject(new Error(`Remote shell error: ${event.type}`))
    })
    this.ws.onmessage = ({ data }: MessageEvent) => {
      if (typeof data === 'string') this.output += data
      else {
        this.received.push(Buffer.from(data as ArrayBuffer))
        this.output += DECODER.decode(data as ArrayBuffer)
      }
    }
    this.closed = new Promise((resolve) => this.ws.addEventListener('close', () => resolve()))
  }

  /** io.sendString / io.onVTKeystroke (index.jsx:60-67). */
  type(text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return
    const txt = new TextEncoder().encode(text)
    this.ws.send(new Uint8Array([MSG_PTY_DATA, ...txt]))
  }

  /** io.onTerminalResize(w, h) (index.jsx:69-78): width is columns, height rows. */
  terminalResize(width: number, height: number): void {
    if (this.ws.readyState !== WebSocket.OPEN) return
    const buf = Buffer.alloc(5)
    buf.writeUInt8(MSG_RESIZE_DATA)
    buf.writeUInt16LE(height, 1)
    buf.writeUInt16LE(width, 3)
    this.ws.send(buf)
  }

  close(): void {
    this.ws.close()
  }
}

/** The query of the UI link in a task's shell artifact (undefined until it is published). */
export function shellPageOf(fake: FakeQueue, taskId: string, name: string): URLSearchParams | undefined {
  const artifact = fake.artifacts(taskId).get(name)
  return artifact?.url ? new URL(artifact.url).searchParams : undefined
}

/** The websocket URL inside the UI link of the shell artifact. */
export function socketUrlOf(fake: FakeQueue, taskId: string, name: string): string | undefined {
  return shellPageOf(fake, taskId, name)?.get('socketUrl') ?? undefined
}

/** Connect to a shell's websocket URL, as the page does once it has one. */
export async function openShell(url: string, screen = SCREEN): Promise<ShellClient> {
  const client = new ShellClient(url, screen)
  await client.ready
  return client
}

/**
 * What the UI's shell page does with a link: version 1 and any other but 2 are refused with the
 * UI's own words (index.jsx:48-55,111-114); version 2 connects to its socketUrl.
 */
export async function openShellPage(link: string, screen = SCREEN): Promise<ShellClient> {
  const query = new URL(link).searchParams
  const version = query.get('v')
  if (version === '1') throw new Error('Interactive shell API version 1 (docker-worker) is no longer supported. Docker-worker has been removed, use generic-worker instead.')
  if (version !== '2') throw new Error(`Interactive shell API version ${version} not supported`)
  return openShell(query.get('socketUrl')!, screen)
}

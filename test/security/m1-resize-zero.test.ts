// M1 (security-audit.md): an interactive `resize` message with 0 rows and 0 columns made
// node-pty throw inside the websocket message handler and took the worker down. Whoever holds
// the shell URL may send any message: a size the terminal cannot take is ignored, the session
// and the task go on. Frames ws refuses (a bad opcode) end that one session only.
import assert from 'node:assert/strict'
import net from 'node:net'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { openShell, socketUrlOf } from '../helpers/shell-client.js'
import { madeInTaskDir, until } from '../helpers/tasks.js'
import { releaseTasks, startTask, startWorker, WAIT_FOR_RELEASE, type WorkerProcess } from './worker-process.js'

describe('M1: interactive resize to 0x0', function () {
  let fake: FakeQueue
  let worker: WorkerProcess | undefined
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => {
    await worker?.stop()
    await fake.stop()
  })

  it('is ignored: the shell still answers and the task completes', async () => {
    worker = await startWorker(fake)
    const taskId = await startTask(fake, { command: [WAIT_FOR_RELEASE], maxRunTime: 60, features: { interactive: true } })
    await until(() => madeInTaskDir(worker!.tasksDir) && socketUrlOf(fake, taskId, 'private/generic-worker/shell.html') !== undefined)
    const url = socketUrlOf(fake, taskId, 'private/generic-worker/shell.html')!
    const shell = await openShell(url)
    shell.terminalResize(0, 0)
    shell.ws.send(Buffer.from([2, 1])) // a resize too short to hold a size (interactivejob.go:125-127)
    shell.type('echo "still-$((6*7))"\r')
    await until(() => shell.output.includes('still-42'))
    assert.ok(worker.alive(), worker.stderr())

    // a raw websocket frame with a reserved opcode (0x3): the server fails that session
    const { host, port, pathname } = new URL(url)
    const raw = net.createConnection({ host, port: Number(port) })
    raw.on('error', () => undefined)
    raw.write(`GET ${pathname} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`)
    raw.write(Buffer.from([0x83, 0x80, 1, 2, 3, 4]))
    await new Promise((r) => raw.once('close', r))
    assert.ok(worker.alive(), worker.stderr())

    await releaseTasks(worker.tasksDir)
    const run = await fake.waitForResolution(taskId)
    assert.deepEqual([run.state, run.reasonResolved], ['completed', 'completed'], worker.stderr())
    assert.ok(worker.alive(), worker.stderr())
  })
})

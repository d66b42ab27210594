// The security tests' worker: the real CLI in its own process (a crash shows as its exit code,
// not as a dead test runner), on ports the test chose, so an attacker knows where to knock.
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import type { RawConfig } from '../../src/config/config.js'
import type { FakeQueue } from '../helpers/fake-queue/index.js'
import { until } from '../helpers/tasks.js'
import { spawnWorker } from '../helpers/worker.js'

export async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise((r) => srv.close(r))
  return port
}

export interface Ports {
  liveLog: number
  interactive: number
  proxy: number
  metrics: number
}

export interface WorkerProcess {
  ports: Ports
  /** The task directories' parent (to release a waiting task: see `releaseTasks`). */
  tasksDir: string
  exited: Promise<number | null>
  stderr: () => string
  /** Whether the process is still running. */
  alive: () => boolean
  stop: () => Promise<number | null>
}

export async function startWorker(fake: FakeQueue, overrides: RawConfig = {}): Promise<WorkerProcess> {
  const ports: Ports = { liveLog: await freePort(), interactive: await freePort(), proxy: await freePort(), metrics: await freePort() }
  const w = await spawnWorker(fake, {
    livelogPortBase: ports.liveLog - 1, // generic-worker serves live logs on livelogPortBase + 1
    interactivePort: ports.interactive,
    taskclusterProxyPort: ports.proxy,
    metricsPort: ports.metrics,
    enableInteractive: true,
    capacity: 2,
    ...overrides,
  })
  let code: number | null | undefined
  void w.exited.then((c) => (code = c))
  return {
    ports,
    tasksDir: String(w.config.tasksDir),
    exited: w.exited,
    stderr: w.stderr,
    alive: () => code === undefined,
    stop: async () => {
      if (code === undefined) w.child.kill('SIGTERM')
      return w.exited
    },
  }
}

/** Send raw bytes on a fresh connection; resolve with whatever came back once the peer closes (or after a short wait). */
export function sendRaw(port: number, bytes: Buffer | string, options: { endAfterWrite?: boolean; waitMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    let reply = ''
    const s = net.createConnection({ host: '127.0.0.1', port }, () => {
      s.write(bytes, () => {
        if (options.endAfterWrite) s.destroy()
      })
    })
    const done = () => {
      clearTimeout(timer)
      s.destroy()
      resolve(reply)
    }
    const timer = setTimeout(done, options.waitMs ?? 1000)
    s.on('data', (c: Buffer) => (reply += c.toString('latin1')))
    s.on('close', done)
    s.on('error', done)
  })
}

/** Create a task, wait for its resolution, return [state, reason]. */
export async function runTask(fake: FakeQueue, payload: unknown, task: Record<string, unknown> = {}): Promise<{ taskId: string; state: string; reason?: string }> {
  const taskId = slugid()
  await fake.createTask(taskId, { payload, ...task })
  await fake.waitForResolution(taskId)
  const run = fake.state.get(taskId).runs[0]!
  return { taskId, state: run.state, reason: run.reasonResolved }
}

/** Create a task and wait for it to be running (its command made `started` in its directory is up to the caller). */
export async function startTask(fake: FakeQueue, payload: unknown, task: Record<string, unknown> = {}): Promise<string> {
  const taskId = slugid()
  await fake.createTask(taskId, { payload, ...task })
  await until(() => fake.status(taskId).runs[0]?.state === 'running')
  return taskId
}

/** A command that waits until the test calls `releaseTasks` (no sleeps that guess at timing). */
export const WAIT_FOR_RELEASE = ['sh', '-c', 'touch started; while [ ! -f ../release ]; do sleep 0.1; done; echo released']

/** Let every WAIT_FOR_RELEASE task go on. */
export async function releaseTasks(tasksDir: string): Promise<void> {
  await writeFile(path.join(tasksDir, 'release'), '')
}

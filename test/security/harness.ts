// What the security tests share: run one task on a fake Queue (insecure or multiuser engine) and
// read what it published, plus root-owned canaries a task must never reach.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import type { RawConfig } from '../../src/config/config.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog } from '../helpers/tasks.js'
import { runWorker, spawnWorker, workerConfig } from '../helpers/worker.js'

export interface SecurityRun {
  taskId: string
  state: string
  reason?: string
  log: string
  config: RawConfig
  artifact(name: string): { storageType?: string; reason?: string; content?: Buffer } | undefined
  artifactNames(): string[]
}

/** A root-owned directory (0755) with a 0600 secret and a 0644 victim in it, as the audit's canaries. */
export function canaries(): { dir: string; secret: string; victim: string; secretText: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-canary-'))
  chmodSync(dir, 0o755)
  const secret = path.join(dir, 'secret.txt')
  const victim = path.join(dir, 'victim.txt')
  const secretText = `CANARY-SECRET-${slugid()}`
  writeFileSync(secret, secretText, { mode: 0o600 })
  writeFileSync(victim, 'ORIGINAL root-owned content', { mode: 0o644 })
  return { dir, secret, victim, secretText }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0
}

/** Python's zipfile writes any entry we ask for (symbolic links included). */
export function python(script: string): void {
  execFileSync('python3', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] })
}

/** Run the tasks (in order, one worker) and return each one's outcome. */
export async function runTasks(
  tasks: Array<{ payload: unknown; scopes?: string[] }>,
  extra: RawConfig = {},
  env: Record<string, string> = {},
  options: { process?: boolean } = {},
): Promise<SecurityRun[]> {
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const saved: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
  try {
    const config = await workerConfig(fake, extra)
    // task users must reach their directories under the test's private temp dir
    chmodSync(path.dirname(String(config.tasksDir)), 0o755)
    const ids: string[] = []
    for (const t of tasks) {
      const id = slugid()
      ids.push(id)
      await fake.createTask(id, { payload: t.payload, scopes: t.scopes ?? [] })
    }
    if (options.process) {
      // a worker process of its own: what it was started with is in its /proc/self/environ
      const w = await spawnWorker(fake, { ...config, numberOfTasksToRun: tasks.length })
      await w.exited
    } else await runWorker(fake, { ...config, numberOfTasksToRun: tasks.length })
    return ids.map((id) => {
      const r = fake.state.get(id).runs[0]!
      const arts = fake.artifacts(id, 0)
      return {
        taskId: id,
        state: r.state,
        reason: r.reasonResolved,
        log: backingLog(fake, id),
        config,
        artifact: (name: string) => arts.get(name) as ReturnType<SecurityRun['artifact']>,
        artifactNames: () => [...arts.keys()],
      }
    })
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    await fake.stop()
  }
}

export async function runTask(payload: unknown, extra: RawConfig = {}, scopes: string[] = []): Promise<SecurityRun> {
  return (await runTasks([{ payload, scopes }], extra))[0]!
}

// What a native run can leave on the host: processes, task users, writable caches still marked
// in use. The native contract suites (insecure and multiuser) probe for them.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { NATIVE_CACHES } from '../../executors/native/mounts/caches.js'
import type { WorkerConfig } from '../../src/config/config.js'

export function processesWith(marker: string): string[] {
  const r = spawnSync('pgrep', ['-a', '-f', marker], { encoding: 'utf8' })
  return r.stdout.split('\n').filter(Boolean).map((l) => `process ${l}`)
}

export function taskUsersUnder(tasksDir: string): string[] {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f[0]?.startsWith('task_') && f[5]?.startsWith(tasksDir + path.sep))
    .map((f) => `task user ${f[0]}`)
}

export function cachesInUse(cachesDir: string): string[] {
  let index: Array<{ name: string; id: string; inUse: boolean }>
  try {
    index = JSON.parse(readFileSync(path.join(cachesDir, NATIVE_CACHES, 'index.json'), 'utf8'))
  } catch {
    return []
  }
  return index.filter((i) => i.inUse).map((i) => `cache ${i.name} (${i.id}) in use`)
}

export async function nativeLeftovers(config: WorkerConfig, marker?: string): Promise<string[]> {
  return [...(marker ? processesWith(marker) : []), ...taskUsersUnder(config.tasksDir), ...cachesInUse(config.cachesDir)]
}

/** A task user a killed multiuser worker left: its home in tasksDir. */
export function leaveTaskUser(config: WorkerConfig): void {
  const name = `task_left${process.pid}`
  execFileSync('useradd', ['--no-create-home', '--home-dir', path.join(config.tasksDir, name), name])
}

// What a replay found, and how `megalodon replay` prints it.

import type { TaskExecutor } from '../../contract/executor.js'
import type { RawConfig } from '../../config/config.js'
import type { Logger } from '../../lib/logger.js'
import type { Credentials } from '../../contract/taskcluster.js'

export interface ReplayOptions {
  taskId: string
  /** The production run to compare with (default: the latest). */
  runId?: number
  rootUrl: string
  /** Used for the deployment's read APIs when given (private artifacts, locked-down deployments). */
  credentials?: Credentials
  /** Let the local run act for the task with these credentials (taskcluster-proxy, private images). */
  withCredentials?: boolean
  /** Where the local run's artifacts go (default: a new temporary directory). */
  artifactsDir?: string
  executors: readonly TaskExecutor[]
  logger: Logger
  /** Extra worker config for the local run (tasksDir, dockerRegistries…). */
  config?: RawConfig
  signal?: AbortSignal
}

export type ArtifactStatus = 'same' | 'differs' | 'missing' | 'extra' | 'not-compared'

export interface ArtifactFacts {
  storageType: string
  size?: number
  sha256?: string
  /** error artifacts: their reason */
  reason?: string
}

export interface ArtifactVerdict {
  name: string
  status: ArtifactStatus
  production?: ArtifactFacts
  local?: ArtifactFacts
  note?: string
}

export interface SideOutcome {
  state: string
  reason?: string
  exitCode?: number
  footer: string[]
}

export type Verdict = 'matched' | 'differed' | 'could-not-run'

export interface ReplayReport {
  taskId: string
  runId: number
  name: string
  family?: string
  verdict: Verdict
  /** Why the task could not be replayed (verdict could-not-run). */
  why?: string
  production?: SideOutcome
  local?: SideOutcome
  artifacts: ArtifactVerdict[]
  differences: string[]
  artifactsDir?: string
}

export function formatReplay(r: ReplayReport): string {
  const lines: string[] = [`Task ${r.taskId} run ${r.runId}${r.name ? ` (${r.name})` : ''}${r.family ? `, ${r.family} payload` : ''}`]
  const side = (s?: SideOutcome) => (s ? `${describe(s)}, exit code ${s.exitCode ?? 'unknown'}` : '—')
  lines.push(`  production: ${side(r.production)}`)
  lines.push(`  megalodon:  ${r.local ? side(r.local) : r.why ?? '—'}`)
  if (r.artifacts.length > 0) {
    lines.push('  artifacts:')
    const width = Math.max(...r.artifacts.map((a) => a.name.length))
    for (const a of r.artifacts) {
      const facts = a.status === 'same' && a.local?.sha256 ? `${a.local.size} bytes, sha256 ${a.local.sha256.slice(0, 12)}…` : (a.note ?? '')
      lines.push(`    ${a.name.padEnd(width)}  ${a.status.padEnd(12)}  ${facts}`.trimEnd())
    }
  }
  if (r.production?.footer.length || r.local?.footer.length) {
    lines.push('  log footer, production:')
    for (const l of r.production?.footer ?? []) lines.push(`    ${l}`)
    lines.push('  log footer, megalodon:')
    for (const l of r.local?.footer ?? []) lines.push(`    ${l}`)
  }
  if (r.artifactsDir) lines.push(`  local artifacts and logs: ${r.artifactsDir}`)
  lines.push(r.verdict === 'could-not-run' ? `Verdict: could not run — ${r.why}` : r.verdict === 'matched' ? 'Verdict: matched' : `Verdict: differed\n${r.differences.map((d) => `  - ${d}`).join('\n')}`)
  return lines.join('\n') + '\n'
}

export function describe(side: SideOutcome): string {
  return side.state === 'exception' ? `exception/${side.reason}` : side.state
}

/** What a replay cannot do without acting as the task. */

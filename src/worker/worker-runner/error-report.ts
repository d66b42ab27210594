// The `error-report` messages worker-runner forwards to worker-manager, shaped as
// generic-worker's (workers/generic-worker/errorreport/errorreport.go:9-31): title
// `generic-worker error`, kind `worker-error`, and `extra` the worker's debug facts
// (main.go:321-335, insecure.go:246-249, multiuser.go:395-399), every value a string.

import type { WorkerConfig } from '../../config/config.js'
import type { ProtocolMessage } from './protocol.js'

/** Node's process.arch in Go's GOARCH spelling (what upstream's `GOARCH` fact holds). */
const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }

/** generic-worker's debugInfo; undefined before the config is loaded (upstream's is nil then). */
export function debugInfo(config: WorkerConfig, version: string): Record<string, string> {
  return {
    GOARCH: GOARCH[process.arch] ?? process.arch,
    GOOS: process.platform === 'win32' ? 'windows' : process.platform,
    cleanUpTaskDirs: String(config.cleanUpTaskDirs),
    engine: config.engine,
    gwRevision: '',
    gwVersion: version,
    instanceType: config.instanceType,
    provisionerId: config.provisionerId,
    rootURL: config.rootURL,
    workerGroup: config.workerGroup,
    workerId: config.workerId,
    workerType: config.workerType,
    capacity: String(config.capacity),
    ...(config.engine === 'multiuser' ? { headlessTasks: String(config.headlessTasks) } : {}),
  }
}

export function errorReport(description: string, extra: Record<string, string> = {}): ProtocolMessage {
  return { type: 'error-report', description, kind: 'worker-error', title: 'generic-worker error', extra }
}

/**
 * The description of a fatal start-up error, as generic-worker's exitOnError words it
 * (main.go:1341-1352): `<what>, args: [], root cause: <error>, exit code: <N>`.
 */
export function exitOnErrorDescription(what: string, cause: string, exitCode: number): string {
  return `${what}, args: [], root cause: ${cause}, exit code: ${exitCode}`
}

// What happens to the machine when the worker exits, as generic-worker decides it
// (workers/generic-worker/main.go:192-225): exit 70 (worker-manager said terminate) always shuts
// the machine down, exit 68 only with shutdownMachineOnIdle, exit 69 only with
// shutdownMachineOnInternalError, any other exit never. "Shut down" is worker-runner's `shutdown`
// message when the runner has that capability (it then asks worker-manager to remove the worker,
// tools/worker-runner/exit/exit.go:24-29), otherwise `shutdown -h now` on the host itself
// (host/host_insecure_posix.go:15-21, host/host_multiuser_posix.go:15-21).

import { spawnSync } from 'node:child_process'
import type { WorkerConfig } from '../config/config.js'
import type { Logger } from '../lib/logger.js'
import { ExitCode } from './exit-codes.js'

export type MachineShutdown = 'protocol' | 'halt' | 'none'

/** The `cause` generic-worker passes to shutdown for each exit that shuts down. */
const CAUSES: Record<number, string> = {
  [ExitCode.IdleTimeout]: 'generic-worker idle timeout',
  [ExitCode.InternalError]: 'generic-worker internal error',
  [ExitCode.WorkerManagerShutdown]: 'worker manager requested termination',
}

export function machineShutdown(exitCode: number, config: Pick<WorkerConfig, 'shutdownMachineOnIdle' | 'shutdownMachineOnInternalError'>, runnerHasShutdown: boolean): MachineShutdown {
  const shutsDown =
    exitCode === ExitCode.WorkerManagerShutdown ||
    (exitCode === ExitCode.IdleTimeout && config.shutdownMachineOnIdle) ||
    (exitCode === ExitCode.InternalError && config.shutdownMachineOnInternalError)
  if (!shutsDown) return 'none'
  return runnerHasShutdown ? 'protocol' : 'halt'
}

/** The host's shutdown command: the insecure engine's worker is not root and goes through sudo. */
export function haltCommand(config: Pick<WorkerConfig, 'engine'>, exitCode: number): string[] {
  const command = ['/sbin/shutdown', '-h', 'now', CAUSES[exitCode] ?? 'generic-worker exit']
  return config.engine === 'multiuser' ? command : ['/usr/bin/sudo', ...command]
}

/** Powers the host off; a failure is logged (upstream then exits 1 through log.Fatal). */
export function haltHost(config: Pick<WorkerConfig, 'engine'>, exitCode: number, logger: Logger): boolean {
  const [command, ...args] = haltCommand(config, exitCode)
  logger.info({ command: [command, ...args].join(' ') }, 'immediate shutdown being issued')
  const result = spawnSync(command!, args, { stdio: ['ignore', 2, 2] })
  if (result.error || result.status !== 0) {
    logger.fatal({ err: result.error, status: result.status }, 'host shutdown failed')
    return false
  }
  return true
}

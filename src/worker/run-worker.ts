// `megalodon run`: the production worker. Under worker-runner it speaks the runner protocol
// on stdin/stdout; standalone it uses static credentials or registers with worker-manager.
// Whatever ends it, it exits with generic-worker's exit code for that reason.

import { defaultExecutors } from '../../executors/index.js'
import { ClaimLoop } from './claim-loop.js'
import { loadWorkerConfig, type WorkerConfig } from '../config/config.js'
import { ConfigError, WorkerError } from '../contract/errors.js'
import { ExitCode, exitCodeFor } from './exit-codes.js'
import { createLogger, type Logger } from '../lib/logger.js'
import type { WorkerMetrics } from './metrics.js'
import { startMonitorServer, type MonitorServer } from './monitor-server.js'
import { startWorkerFeatures } from './worker-features.js'
import { RunnerProtocol } from './worker-runner/protocol.js'
import { keepRegistered, registerWorker } from './worker-manager.js'
import type { Credentials } from '../contract/taskcluster.js'
import { configCredentials, workerCredentials } from '../taskcluster/credentials.js'

export interface RunWorkerOptions {
  configFile: string
  withWorkerRunner: boolean
  version: string
}

export async function runWorker(options: RunWorkerOptions): Promise<number> {
  const protocol = options.withWorkerRunner ? new RunnerProtocol(process.stdin, process.stdout) : undefined
  if (protocol) await protocol.ready()
  const logger = protocol ? createLogger({ destination: protocol.logDestination(process.stderr) }) : createLogger()
  const reportError = (title: string, description: string) =>
    protocol?.send('error-report', { type: 'error-report', kind: 'worker-error', title, description, extra: {} })

  let config: WorkerConfig
  try {
    config = await loadWorkerConfig(options.configFile)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    logger.fatal(err.message)
    process.stderr.write(`megalodon: ${err.message}\n`)
    reportError('invalid worker configuration', err.message)
    return exitCodeFor(err)
  }
  if (config.engine === 'insecure' && config.capacity > 1) {
    // insecure.go:31-38
    logger.warn(`insecure engine with capacity=${config.capacity} provides NO credential or file system isolation between concurrent tasks. Use multiuser engine for production workloads.`)
  }
  if (Object.keys(config.notApplied).length > 0) {
    logger.warn({ keys: Object.keys(config.notApplied) }, 'generic-worker config keys accepted but not acted on by this version')
  }
  return runWithConfig(config, { logger, protocol, version: options.version, reportError })
}

async function runWithConfig(
  config: WorkerConfig,
  ctx: { logger: Logger; protocol?: RunnerProtocol; version: string; reportError: (title: string, description: string) => void },
): Promise<number> {
  const { logger, protocol } = ctx
  const credentials = workerCredentials(configCredentials(config))
  const replaceCredentials = (c: Credentials) => {
    credentials.replace(c)
    logger.info({ clientId: c.clientId }, 'worker credentials replaced')
  }
  let registration: { stop(): void } | undefined
  if (config.workerManager) {
    try {
      const reg = await registerWorker(config)
      credentials.replace(reg.credentials)
      registration = keepRegistered({ config, registration: reg, logger, onCredentials: replaceCredentials })
      logger.info({ clientId: reg.credentials.clientId, expires: reg.expires }, 'registered with worker-manager')
    } catch (err) {
      logger.fatal({ err }, 'registration with worker-manager failed')
      ctx.reportError('registration failed', (err as Error).message)
      return ExitCode.InternalError
    }
  }

  // prom-client is ~19 MiB of idle memory: loaded only when the operator turned metrics on.
  const metrics: WorkerMetrics | undefined = config.metricsPort > 0 ? new (await import('./metrics.js')).WorkerMetrics() : undefined
  let features: Awaited<ReturnType<typeof startWorkerFeatures>>
  try {
    features = await startWorkerFeatures(config, logger)
  } catch (err) {
    // a config problem (73), a signing key that is missing (82) or will not load (69)
    if (!(err instanceof WorkerError)) throw err
    logger.fatal(err.message)
    process.stderr.write(`megalodon: ${err.message}\n`)
    ctx.reportError(err instanceof ConfigError ? 'invalid worker configuration' : 'worker start-up failed', err.message)
    registration?.stop()
    return exitCodeFor(err)
  }
  const loop: ClaimLoop = new ClaimLoop({ config, executors: defaultExecutors({ credentials }), features: features.table, logger, queue: { rootUrl: config.rootURL }, metrics, credentials })
  let monitor: MonitorServer | undefined
  if (metrics) {
    monitor = await startMonitorServer({
      host: config.metricsHost,
      port: config.metricsPort,
      metrics,
      status: () => ({
        workerPoolId: `${config.provisionerId}/${config.workerType}`,
        workerGroup: config.workerGroup,
        workerId: config.workerId,
        version: ctx.version,
        since: loop.startedAt.toISOString(),
        tasksResolved: loop.tasksResolved,
        running: loop.runningTasks(),
      }),
    })
    logger.info({ port: monitor.port }, 'serving /metrics and /status')
  }

  protocol?.on('graceful-termination', ({ finishTasks }) => loop.stop({ finishTasks, exitCode: ExitCode.WorkerShutdown }))
  protocol?.on('new-credentials', replaceCredentials)
  // generic-worker: SIGINT lets running tasks finish; SIGTERM aborts them as worker-shutdown.
  process.once('SIGINT', () => loop.stop({ finishTasks: true, exitCode: ExitCode.WorkerStopped }))
  process.once('SIGTERM', () => loop.stop({ finishTasks: false, exitCode: ExitCode.WorkerShutdown }))
  const onCrash = (err: unknown) => {
    ctx.reportError('internal error', err instanceof Error ? (err.stack ?? err.message) : String(err))
    loop.crash(err)
  }
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)

  let code: number
  try {
    code = await loop.run()
  } catch (err) {
    onCrash(err)
    await loop.drain()
    code = ExitCode.InternalError
  }
  registration?.stop()
  await monitor?.close()
  await features.close()
  // Done for good (idle, or the number of tasks reached): ask the runner to remove this worker.
  if (code === ExitCode.TasksComplete || code === ExitCode.IdleTimeout) protocol?.send('shutdown', { type: 'shutdown' })
  return code
}

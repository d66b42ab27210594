// `megalodon run`: the production worker. Under worker-runner it speaks the runner protocol
// on stdin/stdout; standalone it uses static credentials or registers with worker-manager.
// Whatever ends it, it exits with generic-worker's exit code for that reason.

import { closeSync, constants, open } from 'node:fs'
import { promisify } from 'node:util'
import { chmod, chown } from 'node:fs/promises'
import path from 'node:path'
import { goQuote } from '../lib/go-quote.js'
import { Socket } from 'node:net'
import type { Readable, Writable } from 'node:stream'
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
import { keepRegistered, registerWorker, shouldWorkerTerminate } from './worker-manager.js'
import { debugInfo, errorReport, exitOnErrorDescription } from './worker-runner/error-report.js'
import { reportCrashToSentry } from './sentry.js'
import { machineShutdown, haltHost } from './machine-shutdown.js'
import { hostBootTime, logWorkerEvent } from './worker-metrics.js'
import { metadataFile, readTasksResolved, tasksResolvedFile, workerStatusFile, writeTasksResolved } from './state-files.js'
import type { Credentials } from '../contract/taskcluster.js'
import { configCredentials, workerCredentials } from '../taskcluster/credentials.js'

const openFd = promisify(open) as (path: string, flags: number) => Promise<number>

export interface RunWorkerOptions {
  configFile: string
  withWorkerRunner: boolean
  /** worker-runner's `worker.protocolPipe`: the protocol on `<pipe>-input` / `<pipe>-output` instead of stdout / stdin. */
  protocolPipe?: string
  version: string
}

/**
 * The protocol transport: stdin/stdout, or the named pipes generic-worker connects to with
 * --worker-runner-protocol-pipe (main.go:148-166): `<pipe>-input` written, `<pipe>-output` read.
 */
async function runnerTransport(pipe: string | undefined): Promise<{ input: Readable; output: Writable }> {
  if (!pipe) return { input: process.stdin, output: process.stdout }
  // numeric descriptors (a FileHandle would be closed when collected), opened in this order as
  // upstream does: each open of a FIFO waits for the runner's end
  const output = await openFd(`${pipe}-input`, constants.O_WRONLY)
  const input = await openFd(`${pipe}-output`, constants.O_RDONLY).catch((err: unknown) => {
    closeSync(output)
    throw err
  })
  // libuv pipe handles (not file streams, whose reads would each hold a thread-pool thread)
  return { input: new Socket({ fd: input, readable: true, writable: false }), output: new Socket({ fd: output, readable: false, writable: true }) }
}

export async function runWorker(options: RunWorkerOptions): Promise<number> {
  let transport: { input: Readable; output: Writable } | undefined
  if (options.withWorkerRunner) {
    try {
      transport = await runnerTransport(options.protocolPipe)
    } catch (err) {
      process.stderr.write(`megalodon: cannot connect to the worker-runner protocol pipe ${options.protocolPipe}: ${(err as Error).message}\n`)
      return ExitCode.CantConnectProtocolPipe
    }
  }
  const protocol = transport ? new RunnerProtocol(transport.input, transport.output) : undefined
  if (protocol) await protocol.ready()
  const logger = protocol ? createLogger({ destination: protocol.logDestination(process.stderr) }) : createLogger()
  const reportError = (description: string, extra?: Record<string, string>) => protocol?.send('error-report', errorReport(description, extra))

  let config: WorkerConfig
  try {
    config = await loadWorkerConfig(options.configFile)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    logger.fatal(err.message)
    process.stderr.write(`megalodon: ${err.message}\n`)
    const code = exitCodeFor(err)
    reportError(exitOnErrorDescription(code === ExitCode.CantLoadConfig ? 'Error loading configuration' : 'Invalid config', err.message, code))
    return code
  }
  if (config.engine === 'multiuser') {
    // multiuser.go:45-48: the config file (credentials) is made the worker user's, mode 0600,
    // so that task users cannot read it; a failure exits 77 (usage_multiuser.go:6)
    const file = path.resolve(options.configFile)
    try {
      await chown(file, process.getuid!(), process.getgid!())
      await chmod(file, 0o600)
    } catch (err) {
      const message = `Not able to secure config file ${goQuote(file)}`
      logger.fatal({ err }, message)
      process.stderr.write(`megalodon: ${message}: ${(err as Error).message}\n`)
      reportError(`Not able to secure config file %q, args: [${file}], root cause: ${(err as Error).message}, exit code: ${ExitCode.CantSecureConfig}`)
      return ExitCode.CantSecureConfig
    }
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
  ctx: { logger: Logger; protocol?: RunnerProtocol; version: string; reportError: (description: string, extra?: Record<string, string>) => void },
): Promise<number> {
  const { logger, protocol } = ctx
  const facts = debugInfo(config, ctx.version)
  const credentials = workerCredentials(configCredentials(config))
  // a panic (HandleCrash, main.go:389-397): an error-report with the error's text and the
  // worker's facts, then a Sentry event (sentry.go), which the exit waits for
  const crashReports: Array<Promise<void>> = []
  const reportCrash = (err: unknown) => {
    ctx.reportError(err instanceof Error ? err.message : String(err), facts)
    crashReports.push(reportCrashToSentry(err, { rootUrl: config.rootURL, credentials: credentials.current(), project: config.sentryProject, tags: facts, logger }))
  }
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
      reportCrash(err)
      return finish(ExitCode.InternalError)
    }
  }

  // prom-client is ~19 MiB of idle memory: loaded only when the operator turned metrics on.
  const metrics: WorkerMetrics | undefined = config.metricsPort > 0 ? new (await import('./metrics.js')).WorkerMetrics() : undefined
  let features: Awaited<ReturnType<typeof startWorkerFeatures>>
  try {
    features = await startWorkerFeatures(config, logger, () => credentials.current())
  } catch (err) {
    // a config problem (73), a signing key that is missing (82) or will not load (69)
    if (!(err instanceof WorkerError)) throw err
    logger.fatal(err.message)
    process.stderr.write(`megalodon: ${err.message}\n`)
    reportCrash(err)
    registration?.stop()
    return finish(exitCodeFor(err))
  }
  // generic-worker asks worker-manager only when it runs under worker-runner (main.go:839-856)
  const shouldTerminate = protocol ? (when: string) => shouldWorkerTerminate(config, credentials.current(), logger, when) : undefined
  // main.go:432-434: the host's boot, when it can be read
  const bootedAt = hostBootTime()
  if (bootedAt) logWorkerEvent(logger, config, 'instanceBoot', bootedAt)
  const loop: ClaimLoop = new ClaimLoop({ config, executors: defaultExecutors({ credentials, stateDir: process.cwd() }), features: features.table, logger, queue: { rootUrl: config.rootURL }, metrics, credentials, shouldTerminate, statusFile: workerStatusFile(), metadataFile: config.enableMetadata ? metadataFile() : undefined })
  const resolvedFile = tasksResolvedFile()
  const resolvedBefore = await readTasksResolved(resolvedFile)
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

  protocol?.onGracefulTermination(({ finishTasks }) => loop.stop({ finishTasks, exitCode: ExitCode.WorkerShutdown }))
  protocol?.on('new-credentials', replaceCredentials)
  // generic-worker: SIGINT lets running tasks finish; SIGTERM aborts them as worker-shutdown.
  process.once('SIGINT', () => loop.stop({ finishTasks: true, exitCode: ExitCode.WorkerStopped }))
  process.once('SIGTERM', () => loop.stop({ finishTasks: false, exitCode: ExitCode.WorkerShutdown }))
  const onCrash = (err: unknown) => {
    reportCrash(err)
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
  await writeTasksResolved(resolvedFile, resolvedBefore + loop.tasksResolved).catch((err: unknown) => logger.error({ err, file: resolvedFile }, 'could not write the tasks resolved count'))
  return finish(code)

  async function finish(exitCode: number): Promise<number> {
    await Promise.all(crashReports)
    logger.info({ exitCode }, 'exiting worker')
    // main.go:212-224: these exits log instanceShutdown whether or not the machine is shut down
    if (exitCode === ExitCode.IdleTimeout || exitCode === ExitCode.InternalError || exitCode === ExitCode.WorkerManagerShutdown) logWorkerEvent(logger, config, 'instanceShutdown')
    const action = machineShutdown(exitCode, config, protocol?.capable('shutdown') ?? false)
    if (action === 'protocol') protocol?.send('shutdown', { type: 'shutdown' })
    else if (action === 'halt' && !haltHost(config, exitCode, logger)) return 1
    return exitCode
  }
}

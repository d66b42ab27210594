// The command line. `run` is generic-worker's own (worker-runner starts
// `<path> run --config FILE --with-worker-runner`); `local` and `validate` are for people.

import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import { parseJsonOrYaml } from '../lib/json-or-yaml.js'
import { defaultExecutors } from '../../executors/index.js'
import { buildConfig, readConfigFile } from '../config/config.js'
import { MalformedPayload } from '../contract/errors.js'
import { writeKeyPair } from '../lib/ed25519.js'
import { ExitCode } from '../worker/exit-codes.js'
import { runLocal, taskFromFile, TaskFileUnreadable } from '../run/local.js'
import { createLogger } from '../lib/logger.js'
import { formatStatus, type WorkerStatus } from '../worker/monitor-server.js'
import { projectPath } from '../lib/paths.js'
import { describeResolution, localExitCode } from '../run/resolution.js'
import { runWorker } from '../worker/run-worker.js'
import { readWorkerStatus, workerStatusFile } from '../worker/state-files.js'
import { payloadDocumentFor } from '../../executors/native/schema.js'
import { currentPlatform } from '../../executors/native/platform.js'
import type { Credentials } from '../contract/taskcluster.js'

const version: string = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')).version

async function localCommand(file: string, opts: { artifacts?: string; config?: string }): Promise<number> {
  const logger = createLogger({ level: process.env.MEGALODON_LOG_LEVEL ?? 'warn' })
  const shutdown = new AbortController()
  const onSignal = () => shutdown.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let ran: Awaited<ReturnType<typeof runLocal>>
  try {
    ran = await runLocal({
      file,
      artifactsDir: opts.artifacts,
      configFile: opts.config,
      executors: defaultExecutors(),
      logger,
      stdout: (chunk) => process.stdout.write(chunk),
      shutdownSignal: shutdown.signal,
    })
  } catch (err) {
    // a task file that is not JSON/YAML is the caller's mistake: one line and 64, never the
    // stack trace and exit 1 that means "failed" (security audit L7)
    if (!(err instanceof TaskFileUnreadable)) throw err
    process.stderr.write(`megalodon: ${err.message}\n`)
    return ExitCode.CantLoadConfig
  }
  const { resolution, artifactsDir, taskId } = ran
  process.stdout.write(`\nTask ${taskId}: artifacts and logs in ${artifactsDir}\nResolution: ${describeResolution(resolution)}\n`)
  return localExitCode(resolution)
}

async function validateCommand(file: string): Promise<number> {
  const text = await readFile(file, 'utf8')
  const task = taskFromFile(await parseJsonOrYaml(file, text))
  const executor = defaultExecutors().find((e) => e.profile.accepts(task.payload))
  if (!executor) {
    process.stdout.write('invalid: no executor of this worker accepts this payload\n')
    return 1
  }
  await executor.profile.load()
  try {
    executor.profile.validate(task, buildConfig([]))
  } catch (err) {
    if (!(err instanceof MalformedPayload)) throw err
    process.stdout.write(`invalid ${executor.profile.name} payload: ${err.message}\n`)
    for (const p of err.problems) process.stdout.write(`- ${p}\n`)
    return 1
  }
  process.stdout.write(`valid ${executor.profile.name} payload\n`)
  return 0
}

async function statusCommand(opts: { port?: string; config?: string; json?: boolean }): Promise<number> {
  // generic-worker's `status` (main.go:135-144): the status file, or no task running; 84 if unreadable
  if (opts.port === undefined && opts.config === undefined) {
    try {
      process.stdout.write(`${await readWorkerStatus(workerStatusFile())}\n`)
      return 0
    } catch (err) {
      process.stderr.write(`megalodon status: error reading worker status file ${workerStatusFile()}: ${(err as Error).message}\n`)
      return ExitCode.CantGetWorkerStatus
    }
  }
  const config = buildConfig(opts.config ? [await readConfigFile(opts.config)] : [])
  const port = Number(opts.port ?? config.metricsPort)
  if (!port) {
    process.stderr.write('megalodon status: no port (give --port, or a config with metricsPort)\n')
    return ExitCode.CantGetWorkerStatus
  }
  try {
    const res = await fetch(`http://${config.metricsHost}:${port}/status`)
    const status = (await res.json()) as WorkerStatus
    process.stdout.write(opts.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status))
    return 0
  } catch (err) {
    process.stderr.write(`megalodon status: cannot reach the worker on port ${port}: ${(err as Error).message}\n`)
    return ExitCode.CantGetWorkerStatus
  }
}

/** Credentials from TASKCLUSTER_CLIENT_ID / _ACCESS_TOKEN / _CERTIFICATE, as taskcluster-client's fromEnvVars reads them. */
function envCredentials(): Credentials | undefined {
  const { TASKCLUSTER_CLIENT_ID: clientId, TASKCLUSTER_ACCESS_TOKEN: accessToken, TASKCLUSTER_CERTIFICATE: certificate } = process.env
  return clientId && accessToken ? { clientId, accessToken, ...(certificate ? { certificate } : {}) } : undefined
}

async function replayCommand(taskId: string, opts: { run?: string; rootUrl?: string; withCredentials?: boolean; json?: boolean; artifacts?: string; config?: string }): Promise<number> {
  const rootUrl = opts.rootUrl ?? process.env.TASKCLUSTER_ROOT_URL
  if (!rootUrl) {
    process.stderr.write('megalodon replay: give --root-url (or TASKCLUSTER_ROOT_URL)\n')
    return 2
  }
  const credentials = envCredentials()
  if (opts.withCredentials && !credentials) {
    process.stderr.write('megalodon replay: --with-credentials needs TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN\n')
    return 2
  }
  // replay and shadow bring taskcluster-client: loaded for these commands only, never by `run`
  const { replay } = await import('../compare/replay/replay.js')
  const { formatReplay } = await import('../compare/replay/report.js')
  const report = await replay({
    taskId,
    runId: opts.run === undefined ? undefined : Number(opts.run),
    rootUrl,
    credentials,
    withCredentials: opts.withCredentials === true,
    artifactsDir: opts.artifacts,
    config: opts.config ? await readConfigFile(opts.config) : undefined,
    executors: defaultExecutors(),
    logger: createLogger({ level: process.env.MEGALODON_LOG_LEVEL ?? 'warn' }),
  })
  process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReplay(report))
  return report.verdict === 'matched' ? 0 : report.verdict === 'differed' ? 1 : 2
}

async function shadowCommand(opts: { config: string }): Promise<number> {
  const { readShadowConfig, shadow } = await import('../compare/shadow.js')
  const config = await readShadowConfig(opts.config)
  const { totals, files } = await shadow({
    config,
    credentials: envCredentials(),
    executors: defaultExecutors(),
    logger: createLogger({ level: process.env.MEGALODON_LOG_LEVEL ?? 'warn' }),
    onReport: (r) => process.stdout.write(`${r.taskId} run ${r.runId}: ${r.verdict}${r.verdict === 'could-not-run' ? ` (${r.why})` : ''}\n`),
  })
  process.stdout.write(`\n${totals.tasks} tasks: ${totals.matched} matched, ${totals.differed} differed, ${totals.couldNotRun} could not run\nReport: ${files.html}\n        ${files.markdown}\n`)
  return totals.differed > 0 ? 1 : 0
}

/**
 * The engine this worker runs native tasks with when its config does not say: what `--version`
 * names, as generic-worker's names its build's (`generic-worker (<engine> engine) <version>`,
 * main.go:120-123).
 */
function defaultEngine(): 'insecure' | 'multiuser' {
  return buildConfig([]).engine
}

export function buildProgram(): Command {
  const program = new Command('megalodon')
    .description('A Taskcluster worker that runs docker-worker and generic-worker payloads unchanged')
    .version(`megalodon (${defaultEngine()} engine) ${version}`, '--version', 'print the version')
    .addOption(new Option('--short-version', 'print only the version number'))
    .action((opts: { shortVersion?: boolean }) => {
      if (opts.shortVersion) process.stdout.write(`${version}\n`)
      else program.help()
    })
  program
    .command('run')
    .description('claim and run tasks from the Queue (generic-worker command line)')
    .option('--config <file>', 'generic-worker config file (JSON, as generic-worker reads it)', 'generic-worker.config')
    .option('--with-worker-runner', 'started by worker-runner')
    .option('--worker-runner-protocol-pipe <pipe>', 'worker-runner\'s worker.protocolPipe: the protocol on <pipe>-input and <pipe>-output (exit 78 if they cannot be opened)')
    .action(async (opts: { config: string; withWorkerRunner?: boolean; workerRunnerProtocolPipe?: string }) => {
      const code = await runWorker({ configFile: opts.config, withWorkerRunner: opts.withWorkerRunner === true, protocolPipe: opts.workerRunnerProtocolPipe, version })
      // stdin (worker-runner) and timers must not keep a finished worker alive.
      process.exit(code)
    })
  program
    .command('local')
    .description('run a task definition or bare payload here, without a Queue; exit 0 completed, 1 failed, 2 exception')
    .argument('<file>', 'task definition or payload (JSON or YAML)')
    .option('--artifacts <dir>', 'where artifacts and logs are written (default: a new temporary directory)')
    .option('--config <file>', 'worker config file (optional)')
    .action(async (file: string, opts) => {
      process.exitCode = await localCommand(file, opts)
    })
  program
    .command('validate')
    .description('check a task definition or payload against the payload schema; exit 1 if invalid')
    .argument('<file>', 'task definition or payload (JSON or YAML)')
    .action(async (file: string) => {
      process.exitCode = await validateCommand(file)
    })
  program
    .command('replay')
    .description('run a task a legacy worker ran, here, and compare resolution, exit code and artifacts with production; exit 0 matched, 1 differed, 2 could not run')
    .argument('<taskId>', 'the production task')
    .option('--run <n>', 'the production run to compare with (default: the latest)')
    .option('--root-url <url>', 'the deployment (default: TASKCLUSTER_ROOT_URL)')
    .option('--with-credentials', 'let the local run act for the task with the TASKCLUSTER_* credentials (taskcluster-proxy, private images)')
    .option('--artifacts <dir>', 'where the local run\'s artifacts and logs go (default: a new temporary directory)')
    .option('--config <file>', 'worker config for the local run (optional)')
    .option('--json', 'print the comparison as JSON')
    .action(async (taskId: string, opts) => {
      process.exitCode = await replayCommand(taskId, opts)
    })
  program
    .command('shadow')
    .description('replay the recent tasks of a worker pool, a task group or a list of tasks; write report.md and report.html; never claims')
    .requiredOption('--config <file>', 'shadow config (YAML or JSON): rootUrl, workerPoolId | taskGroupId | taskIds, concurrency, limit, output')
    .action(async (opts: { config: string }) => {
      process.exitCode = await shadowCommand(opts)
    })
  program
    .command('new-ed25519-keypair')
    .description('write a new ed25519 private key for chain of trust signing to FILE (base64 of the 32-byte seed, as generic-worker writes it); print the public key (base64, no newline)')
    .requiredOption('--file <file>', 'where to write the private key (overwritten if it exists; a new file gets mode 0600)')
    .action(async (opts: { file: string }) => {
      try {
        // generic-worker prints the key with no newline (ed25519.go:27-31)
        process.stdout.write(await writeKeyPair(opts.file))
      } catch (err) {
        process.stderr.write(`megalodon: cannot create an ed25519 key pair in ${opts.file}: ${(err as Error).message}\n`)
        process.exitCode = ExitCode.CantCreateEd25519Keypair
      }
    })
  program
    .command('show-payload-schema')
    .description('print the generic-worker payload schema this worker validates against (its default engine\'s)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(payloadDocumentFor(defaultEngine(), currentPlatform().name), null, 2)}\n`)
    })
  program
    .command('status')
    .description('the ids of the tasks running now, as generic-worker prints them ($TMPDIR/worker-status.json); with --port or --config, what the worker\'s /status endpoint says')
    .option('--port <port>', 'the worker\'s metricsPort')
    .option('--config <file>', 'the worker\'s config file (for metricsPort and metricsHost)')
    .option('--json', 'print the raw JSON')
    .action(async (opts) => {
      process.exitCode = await statusCommand(opts)
    })
  return program
}

await buildProgram().parseAsync(process.argv)

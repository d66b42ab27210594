#!/usr/bin/env node
// The command line. `run` is generic-worker's own (worker-runner starts
// `<path> run --config FILE --with-worker-runner`); `local` and `validate` are for people.

import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import YAML from 'yaml'
import { defaultExecutors } from '../executors/index.js'
import { ClaimLoop } from './claim-loop.js'
import { loadWorkerConfig } from './config.js'
import { ConfigError, MalformedPayload } from './errors.js'
import { ExitCode } from './exit-codes.js'
import { runLocal, taskFromFile } from './local.js'
import { createLogger } from './logger.js'
import { projectPath } from './paths.js'
import { describeResolution, localExitCode } from './resolution.js'

const version: string = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')).version

async function runCommand(opts: { config: string; withWorkerRunner?: boolean }): Promise<number> {
  const logger = createLogger()
  let config
  try {
    config = await loadWorkerConfig(opts.config)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    logger.fatal(err.message)
    process.stderr.write(`megalodon: ${err.message}\n`)
    return err.message.startsWith('cannot read config file') ? ExitCode.CantLoadConfig : ExitCode.InvalidConfig
  }
  if (Object.keys(config.notApplied).length > 0) {
    logger.warn({ keys: Object.keys(config.notApplied) }, 'config keys accepted but not acted on by this version')
  }
  if (opts.withWorkerRunner) logger.info('started by worker-runner (protocol support comes in a later version)')
  const loop = new ClaimLoop({ config, executors: defaultExecutors(), logger, queue: { rootUrl: config.rootURL } })
  // generic-worker: SIGINT lets running tasks finish; SIGTERM aborts them as worker-shutdown.
  process.once('SIGINT', () => loop.stop({ finishTasks: true, exitCode: ExitCode.WorkerStopped }))
  process.once('SIGTERM', () => loop.stop({ finishTasks: false, exitCode: ExitCode.WorkerShutdown }))
  try {
    return await loop.run()
  } catch (err) {
    logger.fatal({ err }, 'internal error')
    return ExitCode.InternalError
  }
}

async function localCommand(file: string, opts: { artifacts?: string; config?: string }): Promise<number> {
  const logger = createLogger({ level: process.env.MEGALODON_LOG_LEVEL ?? 'warn' })
  const shutdown = new AbortController()
  const onSignal = () => shutdown.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const { resolution, artifactsDir, taskId } = await runLocal({
    file,
    artifactsDir: opts.artifacts,
    configFile: opts.config,
    executors: defaultExecutors(),
    logger,
    stdout: (chunk) => process.stdout.write(chunk),
    shutdownSignal: shutdown.signal,
  })
  process.stdout.write(`\nTask ${taskId}: artifacts and logs in ${artifactsDir}\nResolution: ${describeResolution(resolution)}\n`)
  return localExitCode(resolution)
}

async function validateCommand(file: string): Promise<number> {
  const text = await readFile(file, 'utf8')
  const task = taskFromFile(/\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text))
  const executor = defaultExecutors().find((e) => e.accepts(task.payload))
  if (!executor) {
    process.stdout.write('invalid: this worker does not run payloads of this family yet\n')
    return 1
  }
  try {
    executor.validatePayload(task, (await import('./config.js')).buildConfig([]))
  } catch (err) {
    if (!(err instanceof MalformedPayload)) throw err
    process.stdout.write(`invalid ${executor.family} payload: ${err.message}\n`)
    for (const p of err.problems) process.stdout.write(`- ${p}\n`)
    return 1
  }
  process.stdout.write(`valid ${executor.family} payload\n`)
  return 0
}

export function buildProgram(): Command {
  const program = new Command('megalodon')
    .description('A Taskcluster worker that runs docker-worker and generic-worker payloads unchanged')
    .version(`megalodon ${version}`, '--version', 'print the version')
    .addOption(new Option('--short-version', 'print only the version number'))
    .action((opts: { shortVersion?: boolean }) => {
      if (opts.shortVersion) process.stdout.write(`${version}\n`)
      else program.help()
    })
  program
    .command('run')
    .description('claim and run tasks from the Queue (generic-worker command line)')
    .requiredOption('--config <file>', 'generic-worker config file (JSON, or YAML)')
    .option('--with-worker-runner', 'started by worker-runner')
    .action(async (opts) => {
      process.exitCode = await runCommand(opts)
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
  return program
}

await buildProgram().parseAsync(process.argv)

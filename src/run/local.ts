// `megalodon local FILE`: run a task definition (or a bare payload) on this machine with no
// Queue. The task log goes to stdout as it is written; artifacts and logs go into a directory,
// with an index (artifacts.json) of what the Queue would have been told.

import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseJsonOrYaml } from '../lib/json-or-yaml.js'
import { niceSlugid as slugid } from '../lib/slugid.js'
import type { TaskExecutor } from '../contract/executor.js'
import { MalformedPayload } from '../contract/errors.js'
import type { ArtifactPublisher, ArtifactSpec } from '../contract/artifacts.js'
import { buildConfig, configFromEnv, readConfigFile, type RawConfig } from '../config/config.js'
import type { Logger } from '../lib/logger.js'
import type { Resolution } from '../contract/outcome.js'
import { runTask } from './task-run.js'
import type { TaskClaim, TaskDefinition } from '../contract/taskcluster.js'

/**
 * Writes artifacts into a directory; the index records everything else about them. The index is
 * written once, by `flush`, after the run (security audit L7: rewritten per artifact, 8000 files
 * took 22 s).
 */
export class DirectoryPublisher implements ArtifactPublisher {
  readonly index: Array<Record<string, unknown>> = []
  constructor(readonly dir: string) {}

  async publish(spec: ArtifactSpec): Promise<void> {
    const { kind, ...rest } = spec
    const entry: Record<string, unknown> = { storageType: kind === 'file' ? 's3' : kind, ...rest }
    // where the worker read the bytes from is no part of what the Queue would be told
    delete entry.contentPath
    if (spec.kind === 'file') {
      const target = path.join(this.dir, spec.name)
      // the payload's name cannot be stored here: the payload's fault, not the worker's (L7)
      if (!target.startsWith(this.dir + path.sep)) throw new MalformedPayload(`artifact name ${spec.name} escapes the artifacts directory`)
      await mkdir(path.dirname(target), { recursive: true })
      await copyFile(spec.contentPath ?? spec.path, target)
      entry.path = path.relative(this.dir, target)
    }
    this.index.push(entry)
  }

  async flush(): Promise<void> {
    await writeFile(path.join(this.dir, 'artifacts.json'), JSON.stringify(this.index, null, 2) + '\n')
  }
}

/** The task file could not be read or parsed: `megalodon local` says so and exits 64 (L7). */
export class TaskFileUnreadable extends Error {}

/**
 * The task to run from a file: a task definition (anything with a `payload`; missing fields are
 * filled in, and the compat fixtures' `expect`/`description` keys are ignored) or a bare
 * payload, which runs as if its task held the scopes it needs: the person at the keyboard is
 * the authority.
 */
export function taskFromFile(parsed: unknown): TaskDefinition {
  const isTask = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'payload' in parsed
  const given: Record<string, unknown> = isTask ? { ...(parsed as Record<string, unknown>) } : { payload: parsed }
  delete given.expect
  delete given.description
  const now = Date.now()
  return {
    taskQueueId: 'megalodon/local',
    provisionerId: 'megalodon',
    workerType: 'local',
    schedulerId: '-',
    taskGroupId: slugid(),
    created: new Date(now).toISOString(),
    deadline: new Date(now + 24 * 3600_000).toISOString(),
    expires: new Date(now + 28 * 24 * 3600_000).toISOString(),
    scopes: [],
    metadata: { name: 'megalodon local', description: 'run with megalodon local', owner: os.userInfo().username, source: 'megalodon local' },
    ...given,
  } as unknown as TaskDefinition
}

export interface LocalRunOptions {
  file: string
  artifactsDir?: string
  configFile?: string
  executors: readonly TaskExecutor[]
  logger: Logger
  stdout: (chunk: Buffer) => void
  shutdownSignal?: AbortSignal
}

export async function runLocal(options: LocalRunOptions): Promise<{ resolution: Resolution; artifactsDir: string; taskId: string }> {
  let task: TaskDefinition
  try {
    const text = await readFile(options.file, 'utf8')
    task = taskFromFile(await parseJsonOrYaml(options.file, text))
  } catch (err) {
    throw new TaskFileUnreadable(`cannot read the task in ${options.file}: ${(err as Error).message}`, { cause: err })
  }
  const layers: RawConfig[] = [
    { provisionerId: 'megalodon', workerType: 'local', workerGroup: 'local', workerId: os.hostname().replace(/[^a-zA-Z0-9_-]/g, '').slice(0, 38) || 'local' },
  ]
  if (options.configFile) layers.push(await readConfigFile(options.configFile))
  layers.push(configFromEnv(process.env))
  const fromUser = Object.assign({}, ...layers.slice(1)) as RawConfig
  if (fromUser.tasksDir === undefined) layers.push({ tasksDir: await mkdtemp(path.join(os.tmpdir(), 'megalodon-tasks-')) })
  const config = buildConfig(layers)

  const artifactsDir = path.resolve(options.artifactsDir ?? (await mkdtemp(path.join(os.tmpdir(), 'megalodon-artifacts-'))))
  await mkdir(artifactsDir, { recursive: true })
  const publisher = new DirectoryPublisher(artifactsDir)
  const taskId = slugid()
  const claim: TaskClaim = {
    taskId,
    runId: 0,
    task,
    workerGroup: config.workerGroup,
    workerId: config.workerId,
    takenUntil: task.deadline,
    credentials: { clientId: 'megalodon-local', accessToken: '' },
  }
  let resolution: Resolution = { state: 'none' }
  await runTask({
    claim,
    config,
    executors: options.executors,
    logger: options.logger,
    shutdownSignal: options.shutdownSignal,
    logSink: options.stdout,
    services: {
      resolve: async (r) => {
        resolution = r
      },
      publisher,
      credentials: () => claim.credentials,
    },
  })
  await publisher.flush()
  return { resolution, artifactsDir, taskId }
}

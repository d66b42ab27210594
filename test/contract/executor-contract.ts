// The executor contract as executable rules, one `it` each. Every executor runs this suite
// with payloads of its own family (a `*.contract.test.ts` file per executor): adding an
// executor is a folder and one call of describeExecutorContract. Runs go through the core's
// runTask with a directory publisher and no Queue.
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { WorkerShutdown } from '../../src/contract/errors.js'
import type { TaskExecutor, UndoStack } from '../../src/contract/executor.js'
import type { FeatureTable } from '../../src/contract/feature.js'
import type { RawConfig, WorkerConfig } from '../../src/config/config.js'
import { directConfig, runDirect, type DirectRun } from '../helpers/run-direct.js'

/** Payloads of the executor's own family for each rule. */
export interface ContractPayloads {
  /** Prints each line, in order. */
  echo(lines: string[]): unknown
  /** Exits with `code`. */
  exit(code: number): unknown
  /** Runs until aborted; `marker` appears in its processes' command lines (or container labels). */
  sleep(marker: string): unknown
  /** Prints `<name>=<value>` of an environment variable. */
  env(name: string): unknown
  /** Declares a file artifact at a path that does not exist. */
  missingArtifact(name: string): unknown
  /** The payload that makes the most undo steps (a task user, caches, a network…). */
  everything(): unknown
}

export interface ContractSetup {
  executor: TaskExecutor
  payloads: ContractPayloads
  /** Config for every run (the engine, …); the suite adds fresh directories. */
  config?: RawConfig
  /** Scopes the task holds (for caches and features `everything()` asks for). */
  scopes?: string[]
  /** What this executor left on the host for runs of this config (users, caches in use, containers, processes with `marker`). */
  leftovers(config: WorkerConfig, marker?: string): Promise<string[]>
  /** Leave on the host what a killed worker of this config would (for the startup rule); absent when the executor keeps nothing across runs. */
  leaveBehind?(config: WorkerConfig): Promise<void>
  /** The features `everything()` asks for. */
  features?: FeatureTable
}

/** Wraps prepare so that registering the k-th undo step throws: a failure right after the k-th thing was made. */
function failingAfterUndoStep(executor: TaskExecutor, k: number): { executor: TaskExecutor; fired: () => boolean } {
  let fired = false
  return {
    fired: () => fired,
    executor: {
      ...executor,
      prepare(ctx, payload, undo) {
        let steps = 0
        const injecting: UndoStack = {
          defer(step) {
            undo.defer(step)
            if (++steps === k) {
              fired = true
              throw new Error(`injected failure after undo step ${k}`)
            }
          },
        }
        return executor.prepare(ctx, payload, injecting)
      },
    },
  }
}

export function describeExecutorContract(name: string, setup: () => Promise<ContractSetup> | ContractSetup, options: { skip?: () => string | undefined } = {}): void {
  describe(`executor contract: ${name}`, function () {
    this.timeout(120_000)
    let s: ContractSetup
    let dirs: RawConfig
    before(async function () {
      const why = options.skip?.()
      if (why) {
        process.stderr.write(`\n  !!! ${name} executor contract SKIPPED: ${why} !!!\n\n`)
        this.skip()
      }
      s = await setup()
    })
    beforeEach(async () => {
      const base = await mkdtemp(path.join(os.tmpdir(), 'megalodon-contract-'))
      // reachable by task users on the multiuser engine
      await import('node:fs/promises').then((fs) => fs.chmod(base, 0o755))
      dirs = { tasksDir: path.join(base, 'tasks'), cachesDir: path.join(base, 'caches'), downloadsDir: path.join(base, 'downloads') }
    })

    const run = (payload: unknown, extra: { executor?: TaskExecutor; shutdownSignal?: AbortSignal } = {}): Promise<DirectRun> =>
      runDirect([extra.executor ?? s.executor], payload, { config: { ...s.config, ...dirs }, task: { scopes: s.scopes ?? [] }, shutdownSignal: extra.shutdownSignal, features: s.features })
    const config = () => directConfig({ ...s.config, ...dirs })

    it('writes the task’s output to the log in order', async () => {
      const r = await run(s.payloads.echo(['first line', 'second line', 'third line']))
      assert.deepEqual(r.resolution, { state: 'completed' }, r.log)
      const at = ['first line', 'second line', 'third line'].map((l) => r.log.indexOf(l))
      assert.ok(at.every((i) => i >= 0), r.log)
      assert.deepEqual([...at].sort((a, b) => a - b), at)
    })

    it('passes the exit code through', async () => {
      for (const code of [0, 3, 42]) {
        let got: number | undefined
        const recording: TaskExecutor = { ...s.executor, run: async (ctx, prepared) => ({ exitCode: (got = (await s.executor.run(ctx, prepared)).exitCode) }) }
        const r = await run(s.payloads.exit(code), { executor: recording })
        assert.equal(got, code, r.log)
        assert.equal(r.resolution.state, code === 0 ? 'completed' : 'failed')
      }
    })

    it('gives the task the environment the features set', async () => {
      const withEnv: TaskExecutor = {
        ...s.executor,
        prepare: (ctx, payload, undo) => {
          ctx.env.CONTRACT_VALUE = 'from-a-feature'
          return s.executor.prepare(ctx, payload, undo)
        },
      }
      const r = await run(s.payloads.env('CONTRACT_VALUE'), { executor: withEnv })
      assert.match(r.log, /CONTRACT_VALUE=from-a-feature/)
    })

    it('settles an abort mid-run and leaves nothing behind', async () => {
      const marker = `contract-sleep-${process.pid}-${Date.now()}`
      const shutdown = new AbortController()
      const started = run(s.payloads.sleep(marker), { shutdownSignal: shutdown.signal })
      // abort once the task is really running
      const c = await config()
      for (let i = 0; i < 400 && (await s.leftovers(c, marker)).length === 0; i++) await new Promise((r) => setTimeout(r, 50))
      shutdown.abort(new WorkerShutdown())
      const r = await started
      assert.deepEqual(r.resolution, { state: 'exception', reason: 'worker-shutdown' }, r.log)
      assert.deepEqual(await s.leftovers(c, marker), [])
    })

    it('starts nothing when the run is already aborted', async () => {
      const marker = `contract-never-${process.pid}-${Date.now()}`
      const shutdown = new AbortController()
      shutdown.abort(new WorkerShutdown())
      const r = await run(s.payloads.sleep(marker), { shutdownSignal: shutdown.signal })
      assert.deepEqual(r.resolution, { state: 'exception', reason: 'worker-shutdown' })
      assert.deepEqual(await s.leftovers(await config(), marker), [])
    })

    it('leaves nothing behind when prepare fails after any of its steps', async () => {
      let k = 1
      for (; k < 50; k++) {
        const injected = failingAfterUndoStep(s.executor, k)
        const r = await run(s.payloads.everything(), { executor: injected.executor })
        assert.deepEqual(await s.leftovers(await config()), [], `after a failure at undo step ${k}`)
        if (!injected.fired()) {
          assert.deepEqual(r.resolution, { state: 'completed' }, r.log)
          break
        }
        // the family decides how such a failure resolves (docker-worker: failed once the container is being made)
        assert.notEqual(r.resolution.state, 'completed', r.log)
      }
      assert.ok(k > 1, 'the payload makes at least one thing to undo')
    })

    it('reports a missing artifact as an error artifact (file-missing-on-worker)', async () => {
      const r = await run(s.payloads.missingArtifact('public/missing.txt'))
      const entry = r.publisher.index.find((e) => e.name === 'public/missing.txt')
      assert.equal(entry?.storageType, 'error', JSON.stringify(r.publisher.index))
      assert.equal(entry?.reason, 'file-missing-on-worker')
    })

    it('cleans up at start what a killed worker left, and starting twice is harmless', async () => {
      const c = await config()
      if (s.leaveBehind) {
        await s.leaveBehind(c)
        assert.notDeepEqual(await s.leftovers(c), [], 'the stand-in leftovers exist')
      }
      const host = { config: c, log: () => undefined }
      await s.executor.startup?.(host)
      await s.executor.startup?.(host)
      assert.deepEqual(await s.leftovers(c), [])
    })
  })
}

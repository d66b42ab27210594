// Interactive shell: while the task runs, a websocket endpoint on the worker opens a real
// terminal inside the task's environment (a pseudo-terminal in the task directory for native
// tasks, a `docker exec` with a TTY in the running container for docker tasks — the executor
// says how, through ctx.openTerminal). The endpoint's secret URL is published only as a
// private `reference` artifact to the Taskcluster UI's shell page, never in the public log.
// Sessions end when the task ends.

import { randomBytes } from 'node:crypto'
import type { Feature, FeatureFactory } from '../src/contract/feature.js'
import type { TaskContext } from '../src/contract/task-context.js'
import type { InteractiveServer } from '../src/servers/interactive-server.js'

export interface InteractiveOptions {
  server: InteractiveServer
  /** e.g. `ws://203.0.113.7:53654`: what the UI connects to. */
  baseUrl: string
}

export function interactiveFeature(options: InteractiveOptions): FeatureFactory {
  return (_ctx, payload) => new Interactive(options, payload.maxRunTimeSecs)
}

class Interactive implements Feature {
  readonly name = 'interactive'
  private token: string | undefined

  constructor(
    private readonly options: InteractiveOptions,
    private readonly maxRunTimeSecs: number,
  ) {}

  // generic-worker asks the task for a scope per worker pool; docker-worker asked none.
  requiredScopes(ctx: TaskContext): string[] {
    return ctx.profile.featureFacts.interactive.requiredScopes(ctx.config)
  }

  async start(ctx: TaskContext): Promise<void> {
    const { config } = ctx
    if (!ctx.openTerminal) throw new Error('this executor cannot open a terminal for the interactive feature')
    this.token = randomBytes(24).toString('base64url')
    this.options.server.serve(this.token, ctx.openTerminal)
    const socketUrl = `${this.options.baseUrl}/shell/${this.token}`
    const page = `${config.rootURL.replace(/\/$/, '')}/shell/?v=1&socketUrl=${encodeURIComponent(socketUrl)}&taskId=${ctx.taskId}`
    const expires = new Date(Math.min(Date.now() + this.maxRunTimeSecs * 1000, Date.parse(ctx.task.expires))).toISOString()
    const name = ctx.profile.featureFacts.interactive.artifactName
    await ctx.publisher.publish({ kind: 'reference', name, url: page, contentType: 'text/html', expires }, ctx.signal)
    ctx.log.info(`An interactive shell is open while the task runs: see the artifact ${name}`)
  }

  async stop(): Promise<void> {
    if (this.token) this.options.server.close(this.token)
  }
}

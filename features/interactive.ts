// Interactive shell: while the task runs, a websocket endpoint on the worker opens a real
// terminal inside the task's environment (a pseudo-terminal in the task directory for native
// tasks, a `docker exec` with a TTY in the running container for docker tasks — the executor
// says how, through ctx.openTerminal). The endpoint's secret URL is published only as a
// private `reference` artifact to the Taskcluster UI's shell page, never in the public log.
// Sessions end when the task ends.
//
// The link is generic-worker's for both families (interactive_feature.go:158-172):
// `<rootURL>/shell/?runId=<n>&socketUrl=<ws URL>&taskId=<id>&v=2`, encoded as Go's url.Values
// (keys sorted), because `v=2` is the only protocol the current UI opens
// (ui/src/components/Shell/index.jsx:48-115). The artifact's name, content type, expiry and
// scopes are the family's (FeatureFacts.interactive).

import { randomBytes } from 'node:crypto'
import type { Feature, FeatureFactory } from '../src/contract/feature.js'
import type { TaskContext } from '../src/contract/task-context.js'
import { goValuesEncode } from '../src/lib/go-query.js'
import type { InteractiveServer } from '../src/servers/interactive-server.js'

export interface InteractiveOptions {
  server: InteractiveServer
  /** e.g. `ws://203.0.113.7:53654`, or a websocktunnel client URL as ws(s): what the UI connects to. */
  baseUrl: () => Promise<string>
}

export function interactiveFeature(options: InteractiveOptions): FeatureFactory {
  return (_ctx, payload) => new Interactive(options, payload.maxRunTimeSecs)
}

/** The shell page's link, as generic-worker builds it (interactive_feature.go:158-172). */
export function shellPageUrl(rootURL: string, socketUrl: string, taskId: string, runId: number): string {
  const query = goValuesEncode({ v: '2', socketUrl, taskId, runId: String(runId) })
  return `${rootURL.replace(/\/$/, '')}/shell/?${query}`
}

class Interactive implements Feature {
  readonly name = 'interactive'
  private token: string | undefined

  constructor(
    private readonly options: InteractiveOptions,
    private readonly maxRunTimeSecs: number,
  ) {}

  requiredScopes(ctx: TaskContext): string[] {
    return ctx.profile.featureFacts.interactive.requiredScopes(ctx.config)
  }

  async start(ctx: TaskContext): Promise<void> {
    const facts = ctx.profile.featureFacts.interactive
    if (!ctx.openTerminal) throw new Error('this executor cannot open a terminal for the interactive feature')
    this.token = randomBytes(24).toString('base64url')
    this.options.server.serve(this.token, ctx.openTerminal)
    const socketUrl = `${await this.options.baseUrl()}/shell/${this.token}`
    const url = shellPageUrl(ctx.config.rootURL, socketUrl, ctx.taskId, ctx.runId)
    // the Queue refuses a link that outlives the task: it lasts until then at most
    const lifetimeMs = (this.maxRunTimeSecs + facts.expiresAfterMaxRunTimeSecs) * 1000
    const expires = new Date(Math.min(Date.now() + lifetimeMs, Date.parse(ctx.task.expires))).toISOString()
    // neither legacy worker says anything in the task log about the shell (docker-worker's
    // `create websocket server at` went to the worker's log: audit-docker-worker row 21)
    try {
      await ctx.publisher.publish({ kind: 'reference', name: facts.artifactName, url, contentType: facts.contentType, expires }, ctx.signal)
    } catch (err) {
      if (!facts.publishFailureWarning || ctx.signal.aborted) throw err
      ctx.log.warn(facts.publishFailureWarning(err))
    }
  }

  async stop(): Promise<void> {
    if (this.token) this.options.server.close(this.token)
  }
}

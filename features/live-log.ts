// The live log feature: while the task runs, `public/logs/live.log` (payload `logs.live`) is a
// `reference` artifact to the worker's own live log URL; the worker replaces it with a link to
// the backing log at the end. A live log that cannot be published is a warning, never a failure.

import { randomBytes } from 'node:crypto'
import type { Feature, FeatureFactory } from '../src/contract/feature.js'
import type { TaskContext } from '../src/contract/task-context.js'
import type { LiveLogServer } from '../src/servers/livelog-server.js'

export interface LiveLogOptions {
  server: LiveLogServer
  /** e.g. `http://203.0.113.7:60099`, or a websocktunnel client URL: what readers outside the host use. */
  baseUrl: () => Promise<string>
}

export function liveLogFeature(options: LiveLogOptions): FeatureFactory {
  return (_ctx, payload) => {
    const name = payload.logs.live
    if (!name) return undefined
    return new LiveLog(options, name, payload.maxRunTimeSecs)
  }
}

class LiveLog implements Feature {
  readonly name = 'liveLog'
  constructor(
    private readonly options: LiveLogOptions,
    private readonly artifactName: string,
    private readonly maxRunTimeSecs: number,
  ) {}

  async start(ctx: TaskContext): Promise<void> {
    const token = randomBytes(24).toString('base64url')
    this.options.server.serve(token, ctx.log)
    const after = ctx.profile.featureFacts.liveLog.expiresAfterMaxRunTimeSecs
    const taskExpires = Date.parse(ctx.task.expires)
    const expires = new Date(after === null ? taskExpires : Math.min(Date.now() + (this.maxRunTimeSecs + after) * 1000, taskExpires)).toISOString()
    try {
      const baseUrl = await this.options.baseUrl()
      await ctx.publisher.publish({ kind: 'reference', name: this.artifactName, url: `${baseUrl}/log/${token}`, contentType: 'text/plain; charset=utf-8', expires }, ctx.signal)
    } catch (err) {
      ctx.log.warn(`The live log is not available for this task: ${(err as Error).message}`)
    }
  }

  async stop(): Promise<void> {
    // The stream ends by itself when the task log closes, after the footer.
  }
}

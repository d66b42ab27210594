// The features a worker offers, built once per worker from its config: the live log and
// interactive servers (one port each for every task), the chain of trust signing key, and the
// taskcluster-proxy (a server per task).

import type { FeatureTable } from '../contract/feature.js'
import { liveLogFeature } from '../../features/live-log.js'
import { chainOfTrustFeature } from '../../features/chain-of-trust.js'
import { taskclusterProxyFeature } from '../../features/taskcluster-proxy.js'
import { loadSigningKey } from './signing-key.js'
import type { WorkerConfig } from '../config/config.js'
import { LiveLogServer } from '../servers/livelog-server.js'
import type { Logger } from '../lib/logger.js'
import type { Credentials } from '../contract/taskcluster.js'
import type { WebsocktunnelExposure } from '../servers/websocktunnel.js'
import { websocktunnelToken } from '../taskcluster/auth.js'

export interface WorkerFeatures {
  table: FeatureTable
  close(): Promise<void>
}

/**
 * How a server on this host is reached from outside: through websocktunnel when `wstServerURL`
 * and `wstAudience` are both set (main.go:342-358; the server then listens on loopback only),
 * else directly at publicIP (expose/local.go).
 */
function exposer(config: WorkerConfig, logger: Logger, credentials: (() => Credentials) | undefined, closers: Array<() => Promise<void>>) {
  const tunnelled = config.wstServerURL !== '' && config.wstAudience !== ''
  return {
    host: tunnelled || !config.publicIP ? '127.0.0.1' : '0.0.0.0',
    baseUrl(port: number, scheme: 'http' | 'ws'): () => Promise<string> {
      if (!tunnelled) {
        const url = `${scheme}://${config.publicIP || '127.0.0.1'}:${port}`
        return () => Promise.resolve(url)
      }
      if (!credentials) throw new Error('websocktunnel needs the worker’s credentials')
      const fetchToken = (audience: string, clientId: string) => websocktunnelToken(config.rootURL, credentials(), audience, clientId)
      // ws and the tunnel are loaded with the first task that needs the URL, not by an idle worker
      let tunnel: Promise<{ exposure: WebsocktunnelExposure; websocketUrl: (url: string) => string }> | undefined
      const opened = () =>
        (tunnel ??= import('../servers/websocktunnel.js').then(({ WebsocktunnelExposure, websocketUrl }) => {
          const exposure = new WebsocktunnelExposure({ fetchToken, serverUrl: config.wstServerURL, audience: config.wstAudience, workerGroup: config.workerGroup, workerId: config.workerId, targetPort: port, logger })
          closers.push(async () => exposure.close())
          return { exposure, websocketUrl }
        }))
      // interactive_feature.go:146-157: the shell's socket is the tunnel URL as ws(s)
      return async () => {
        const { exposure, websocketUrl } = await opened()
        const url = (await exposure.url()).replace(/\/$/, '')
        return scheme === 'ws' ? websocketUrl(url) : url
      }
    },
  }
}

export async function startWorkerFeatures(config: WorkerConfig, logger: Logger, credentials?: () => Credentials): Promise<WorkerFeatures> {
  const table: FeatureTable = {}
  const closers: Array<() => Promise<void>> = []
  const expose = exposer(config, logger, credentials, closers)
  // first: a key that stops the worker (exit 82 or 69) does so before any server listens
  const key = await loadSigningKey(config, logger)
  if (key) {
    table.chainOfTrust = chainOfTrustFeature(key)
    logger.info({ publicKey: key.publicKeyBase64 }, 'signing chain of trust certificates')
  }
  if (config.enableLiveLog) {
    const server = new LiveLogServer()
    // Readers come from outside when the host has a public IP (and no tunnel); otherwise keep it on loopback.
    const host = expose.host
    // generic-worker's readers reach the live log through an exposer listening on
    // livelogExposePort (expose/local.go:56-63, main.go:355-356), the port in the URL
    // (expose/local.go:40-47); megalodon serves it there itself. With 0 upstream takes a fresh
    // ephemeral port per task; megalodon keeps livelogPortBase + 1, the port livelog reads on.
    const wanted = config.livelogExposePort > 0 ? config.livelogExposePort : config.livelogPortBase > 0 ? config.livelogPortBase + 1 : 0
    // Another worker on this host may hold the port: any free port still works.
    const port = await server.start(host, wanted, (err) => logger.warn({ err, port: wanted }, 'live log port busy; serving live logs on a free port'))
    table.liveLog = liveLogFeature({ server, baseUrl: expose.baseUrl(port, 'http') })
    closers.push(() => server.stop())
    logger.info({ port, host }, 'serving live logs')
  }
  if (config.enableInteractive) {
    // The websocket server (ws) is loaded only on workers that offer interactive shells (off by default).
    const [{ InteractiveServer }, { interactiveFeature }] = await Promise.all([import('../servers/interactive-server.js'), import('../../features/interactive.js')])
    const server = new InteractiveServer()
    const port = await server.start(expose.host, config.interactivePort, (err) => logger.warn({ err, port: config.interactivePort }, 'interactive port busy; serving interactive shells on a free port'))
    table.interactive = interactiveFeature({ server, baseUrl: expose.baseUrl(port, 'ws') })
    closers.push(() => server.stop())
    logger.info({ port, host: expose.host }, 'serving interactive shells')
  }
  if (config.enableTaskclusterProxy) table.taskclusterProxy = taskclusterProxyFeature({ port: config.taskclusterProxyPort })
  return {
    table,
    close: async () => {
      await Promise.all(closers.map((c) => c()))
    },
  }
}

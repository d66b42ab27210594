// The docker executor passes the executor contract on the real engine.
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { WORKER_LABEL } from '../../executors/docker/container.js'
import { createDockerExecutor } from '../../executors/docker/executor.js'
import type { TaskExecutor } from '../../src/contract/executor.js'
import type { WorkerConfig } from '../../src/config/config.js'
import { taskclusterProxyFeature } from '../../features/taskcluster-proxy.js'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { describeExecutorContract, type ContractPayloads } from './executor-contract.js'
import { processesWith } from './native-leftovers.js'

const CACHE = 'contract-cache'
const sh = (script: string) => ({ image: BUSYBOX_IMAGE, command: ['sh', '-c', script], maxRunTime: 600 })

const payloads: ContractPayloads = {
  echo: (lines) => sh(lines.map((l) => `echo '${l}'`).join('; ')),
  exit: (code) => sh(`exit ${code}`),
  sleep: (marker) => sh(`sleep 300; : ${marker}`),
  env: (name) => sh(`echo "${name}=$${name}"`),
  missingArtifact: (name) => ({ ...sh('true'), artifacts: { [name]: { type: 'file', path: '/not-there.txt' } } }),
  everything: () => ({ ...sh('ls /c'), cache: { [CACHE]: '/c' }, features: { taskclusterProxy: true } }),
}

function docker(args: string[]): string[] {
  return execFileSync('docker', args, { encoding: 'utf8' }).split('\n').filter(Boolean)
}

async function dockerLeftovers(config: WorkerConfig, marker?: string): Promise<string[]> {
  const label = `${WORKER_LABEL}=${config.workerGroup}/${config.workerId}`
  // a cache instance held by a run that ended makes the next run take a second one
  const instances = (() => {
    try {
      return readdirSync(path.join(config.cachesDir, CACHE))
    } catch {
      return []
    }
  })()
  return [
    ...(marker ? processesWith(marker) : []),
    ...docker(['ps', '-aq', '--filter', `label=${label}`]).map((id) => `container ${id}`),
    ...docker(['network', 'ls', '-q', '--filter', `label=${label}`]).map((id) => `network ${id}`),
    ...(instances.length > 1 ? [`${instances.length} instances of cache ${CACHE}: one was never released`] : []),
  ]
}

describeExecutorContract(
  'docker',
  async () => {
    await dockerForTests()
    return {
      executor: createDockerExecutor() as TaskExecutor,
      payloads,
      scopes: [`docker-worker:cache:${CACHE}`],
      features: { taskclusterProxy: taskclusterProxyFeature({ port: 0 }) },
      leftovers: dockerLeftovers,
      leaveBehind: async (config) => void docker(['create', '--label', `${WORKER_LABEL}=${config.workerGroup}/${config.workerId}`, BUSYBOX_IMAGE, 'true']),
    }
  },
  { skip: () => (dockerTestsEnabled() ? undefined : 'MEGALODON_SKIP_DOCKER=1') },
)

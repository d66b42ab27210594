// The native executor passes the executor contract, on the insecure engine and (as root) on
// the multiuser engine.
import { createNativeExecutor } from '../../executors/native/executor.js'
import type { TaskExecutor } from '../../src/contract/executor.js'
import { describeExecutorContract, type ContractPayloads } from './executor-contract.js'
import { leaveTaskUser, nativeLeftovers } from './native-leftovers.js'

const sh = (script: string) => ({ command: [['sh', '-c', script]], maxRunTime: 600 })

const payloads: ContractPayloads = {
  echo: (lines) => sh(lines.map((l) => `echo '${l}'`).join('; ')),
  exit: (code) => sh(`exit ${code}`),
  sleep: (marker) => sh(`sleep 300; : ${marker}`),
  env: (name) => sh(`echo "${name}=$${name}"`),
  missingArtifact: (name) => ({ ...sh('true'), artifacts: [{ type: 'file', path: 'not-there.txt', name }] }),
  everything: () => ({ ...sh('ls cache'), mounts: [{ directory: 'cache', cacheName: 'contract-cache' }] }),
}
const scopes = ['generic-worker:cache:contract-cache']

describeExecutorContract('native, insecure engine', () => ({
  executor: createNativeExecutor() as TaskExecutor,
  payloads,
  scopes,
  leftovers: nativeLeftovers,
}))

describeExecutorContract(
  'native, multiuser engine',
  () => ({
    executor: createNativeExecutor() as TaskExecutor,
    payloads,
    scopes,
    config: { engine: 'multiuser' },
    leftovers: nativeLeftovers,
    leaveBehind: async (config) => leaveTaskUser(config),
  }),
  { skip: () => (process.getuid?.() === 0 ? undefined : 'the multiuser engine needs root') },
)

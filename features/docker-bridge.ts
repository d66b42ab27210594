// `taskclusterProxyInterface: docker-bridge` (generic-worker payloads whose commands run docker
// containers themselves): a Docker network of the task's own, the proxy bound to its IPv4
// gateway, so that containers on that network, and only they, reach it
// (taskcluster_proxy_feature.go:108-159). Done with the docker CLI, as upstream does.

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { isIPv4 } from 'node:net'

const run = promisify(execFile)

async function docker(...args: string[]): Promise<string> {
  try {
    return (await run('docker', args, { encoding: 'utf8' })).stdout
  } catch (err) {
    const e = err as { stderr?: string; message: string }
    throw new Error(e.stderr?.trim() || e.message)
  }
}

export interface TaskNetwork {
  name: string
  gateway: string
  /** CIDR of the network: a peer inside it is a container of this task. */
  subnet: string
  remove(): Promise<void>
}

/** `gw-task-<taskId[:12]>-<runId>` (taskcluster_proxy_feature.go:112). */
export function taskNetworkName(taskId: string, runId: number): string {
  return `gw-task-${taskId.slice(0, 12)}-${runId}`
}

/**
 * Creates the task's network (with IPv6 when Docker's default bridge has it) and finds its first
 * IPv4 gateway and subnet. Failures carry upstream's wording; the caller makes them internal errors.
 */
export async function createTaskNetwork(taskId: string, runId: number): Promise<TaskNetwork> {
  const name = taskNetworkName(taskId, runId)
  const ipv6 = (await docker('network', 'inspect', 'bridge', '--format', '{{.EnableIPv6}}').catch(() => '')).trim() === 'true'
  try {
    await docker('network', 'create', ...(ipv6 ? ['--ipv6'] : []), name)
  } catch (err) {
    throw new Error(`could not create Docker network ${name}: ${(err as Error).message}`)
  }
  const remove = async () => {
    await docker('network', 'rm', name).catch(() => undefined)
  }
  let out: string
  try {
    out = await docker('network', 'inspect', name, '--format', '{{range .IPAM.Config}}{{if and .Gateway .Subnet}}{{.Gateway}} {{.Subnet}}{{println}}{{end}}{{end}}')
  } catch (err) {
    await remove()
    throw new Error(`could not determine gateway/subnet for Docker network ${name}: ${(err as Error).message}`)
  }
  for (const line of out.trim().split('\n')) {
    const [gateway, subnet, ...rest] = line.trim().split(/\s+/)
    if (gateway && subnet && rest.length === 0 && isIPv4(gateway)) return { name, gateway, subnet, remove }
  }
  await remove()
  throw new Error(`no IPv4 gateway found for Docker network ${name} in ${JSON.stringify(out)}`)
}

/** Whether an IPv4 address is inside a CIDR (`a.b.c.d/n`). */
export function inSubnet(address: string, cidr: string): boolean {
  const ip = address.replace(/^::ffff:/, '')
  const [base, bits] = cidr.split('/')
  if (!isIPv4(ip) || !base || !isIPv4(base)) return false
  const n = Number(bits)
  const word = (a: string) => a.split('.').reduce((acc, x) => (acc << 8) + Number(x), 0) >>> 0
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0
  return (word(ip) & mask) === (word(base) & mask)
}

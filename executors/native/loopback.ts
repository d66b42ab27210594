// Loopback devices for native tasks (Linux): a v4l2loopback video device and an snd-aloop sound
// card the host provides. The task gets TASKCLUSTER_VIDEO_DEVICE for video; on the multiuser
// engine the devices belong to the task user while it runs, and to root again afterwards.

import { chown, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { MalformedPayload } from '../../src/contract/errors.js'

export interface LoopbackDevices {
  /** Every device node the task may use. */
  nodes: string[]
  env: Record<string, string>
}

/** The devices a payload asks for; MalformedPayload naming what this host lacks. */
export async function loopbackDevices(features: Record<string, boolean | undefined>, config: { loopbackVideoDeviceNumber: number; loopbackAudioDeviceNumber: number }, devDir = '/dev'): Promise<LoopbackDevices> {
  const found: LoopbackDevices = { nodes: [], env: {} }
  const missing: string[] = []
  if (features.loopbackVideo === true) {
    const node = path.join(devDir, `video${config.loopbackVideoDeviceNumber}`)
    if ((await stat(node).catch(() => undefined))?.isCharacterDevice()) {
      found.nodes.push(node)
      found.env.TASKCLUSTER_VIDEO_DEVICE = node
    } else missing.push(`loopback video device ${node} (is the v4l2loopback module loaded?)`)
  }
  if (features.loopbackAudio === true) {
    const snd = path.join(devDir, 'snd')
    const card = config.loopbackAudioDeviceNumber
    // controlC<n>, pcmC<n>D<d>(c|p): the card's control and PCM nodes
    const nodes = (await readdir(snd).catch(() => [] as string[])).filter((n) => n === `controlC${card}` || n.startsWith(`pcmC${card}D`)).map((n) => path.join(snd, n))
    if (nodes.some((n) => n.endsWith(`controlC${card}`))) found.nodes.push(...nodes)
    else missing.push(`loopback audio card ${card} (${path.join(snd, `controlC${card}`)}; is the snd-aloop module loaded?)`)
  }
  if (missing.length > 0) throw new MalformedPayload('the task asks for devices this worker does not have', missing.map((m) => `This worker has no ${m}`))
  return found
}

/** Hand the device nodes to a user; returns how to give them back to their owners. */
export async function lendDevices(nodes: readonly string[], uid: number, gid: number): Promise<() => Promise<void>> {
  const owners = await Promise.all(nodes.map(async (n) => ({ n, st: await stat(n) })))
  for (const node of nodes) await chown(node, uid, gid)
  return async () => {
    for (const { n, st } of owners) await chown(n, st.uid, st.gid).catch(() => undefined)
  }
}

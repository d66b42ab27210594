// Loopback devices for native tasks (Linux), set up as generic-worker's LoopbackAudio and
// LoopbackVideo features do when they start: the worker loads the kernel module itself, then
// gives the device nodes to the `audio` / `video` group, mode 660. The task reaches them through
// that group (osGroups), and gets TASKCLUSTER_VIDEO_DEVICE for video. Any step that fails is the
// worker's problem, not the task's: exception/internal-error.

import { InternalError } from '../../src/contract/errors.js'
import { audioDevicePaths, videoDevicePath } from '../../src/lib/loopback-devices.js'
import type { TaskLog } from '../../src/lib/task-log.js'
import { runHostCommand, type HostCommandResult } from './host-command.js'

export type RunHostCommand = (file: string, args: readonly string[]) => Promise<HostCommandResult>

/** loopback_audio_feature_linux.go:59-101 */
export async function startLoopbackAudio(card: number, osGroups: readonly string[], log: TaskLog, run: RunHostCommand = runHostCommand): Promise<void> {
  // checked here, not in the config, which only bounds it as a uint8 (gwconfig/config_linux.go:14)
  if (card > 31) throw new InternalError('loopback audio device number must be between 0 and 31, inclusive')
  if (!osGroups.includes('audio') && !osGroups.includes('docker')) {
    log.warn("Neither 'audio' nor 'docker' group is in the list of OS groups. Consider adding so that the loopback audio devices will work as expected.")
  }
  const options = await run('/usr/bin/env', ['bash', '-c', `/usr/bin/echo options snd-aloop enable=1 index=${card} > /etc/modprobe.d/snd-aloop.conf`])
  if (options.error) throw new InternalError(`could not set snd-aloop kernel module options. Output: ${options.output}. Error: ${options.error}`)
  const loaded = await run('/usr/sbin/modprobe', ['snd-aloop'])
  if (loaded.error) throw new InternalError(`could not load the snd-aloop kernel module. Output: ${loaded.output}. Error: ${loaded.error}`)
  const devices = audioDevicePaths(card)
  for (const device of devices) {
    const group = await run('/usr/bin/chgrp', ['audio', device])
    if (group.error) throw new InternalError(`could not chgrp audio the ${device} device: ${group.error}`)
    const mode = await run('/bin/chmod', ['660', device])
    if (mode.error) throw new InternalError(`could not chmod 660 the ${device} device. Output: ${mode.output}. Error: ${mode.error}`)
  }
  // Go's %v of a []string
  log.info(`Loopback audio devices are available at [${devices.join(' ')}]`)
}

/** loopback_video_feature_linux.go:53-87; returns the task's TASKCLUSTER_VIDEO_DEVICE. */
export async function startLoopbackVideo(deviceNumber: number, osGroups: readonly string[], log: TaskLog, run: RunHostCommand = runHostCommand): Promise<Record<string, string>> {
  if (!osGroups.includes('video') && !osGroups.includes('docker')) {
    log.warn("Neither 'video' nor 'docker' group is in the list of OS groups. Consider adding so that the loopback video device will work as expected.")
  }
  const device = videoDevicePath(deviceNumber)
  const loaded = await run('/usr/sbin/modprobe', ['v4l2loopback', `video_nr=${deviceNumber}`])
  if (loaded.error) throw new InternalError(`could not load the v4l2loopback kernel module: ${loaded.error}`)
  const group = await run('/usr/bin/chgrp', ['video', device])
  if (group.error) throw new InternalError(`could not chgrp video the ${device} device: ${group.error}`)
  const mode = await run('/bin/chmod', ['660', device])
  if (mode.error) throw new InternalError(`could not chmod 660 the ${device} device: ${mode.error}`)
  log.info(`Loopback video device is available at ${device}`)
  return { TASKCLUSTER_VIDEO_DEVICE: device }
}

// Loopback video and audio devices for native tasks, set up as generic-worker's LoopbackAudio and
// LoopbackVideo features do (loopback_audio_feature_linux.go, loopback_video_feature_linux.go).
// Root only. These machines have neither modprobe nor the v4l2loopback and snd-aloop modules, so
// the test puts a stand-in at /usr/sbin/modprobe (only where there is none): it records its
// arguments and makes the device nodes the module would, with /dev/null's numbers, root's and
// mode 600, so that what the worker does to them afterwards shows.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { chmod, mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import { audioDevicePaths } from '../../src/lib/loopback-devices.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

const POOL = 'test-provisioner/test-worker-type'
const MODPROBE = '/usr/sbin/modprobe'
const MODPROBE_D = '/etc/modprobe.d'
const ALOOP_CONF = path.join(MODPROBE_D, 'snd-aloop.conf')
const VIDEO_NR = 97
const VIDEO = `/dev/video${VIDEO_NR}`
const CARD = 27

describe('loopback devices (native)', function () {
  this.timeout(60_000)
  let fake: FakeQueue
  let record = ''
  let made: { snd: boolean; modprobeD: boolean; conf?: Buffer } = { snd: false, modprobeD: false }
  before(async function () {
    if (process.getuid?.() !== 0 || existsSync(MODPROBE)) this.skip()
    record = path.join(await mkdtemp('/tmp/megalodon-modprobe-'), 'calls')
    made = { snd: !existsSync('/dev/snd'), modprobeD: !existsSync(MODPROBE_D), ...(existsSync(ALOOP_CONF) ? { conf: readFileSync(ALOOP_CONF) } : {}) }
    if (made.modprobeD) mkdirSync(MODPROBE_D)
    installStandIn(record)
  })
  after(() => {
    if (!record) return
    rmSync(MODPROBE, { force: true })
    for (const node of [VIDEO, ...audioDevicePaths(CARD)]) rmSync(node, { force: true })
    if (made.snd) rmSync('/dev/snd', { recursive: true, force: true })
    if (made.conf) writeFileSync(ALOOP_CONF, made.conf)
    else rmSync(ALOOP_CONF, { force: true })
    if (made.modprobeD) rmSync(MODPROBE_D, { recursive: true, force: true })
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    rmSync(record, { force: true })
    for (const node of [VIDEO, ...audioDevicePaths(CARD)]) rmSync(node, { force: true })
  })
  afterEach(async () => fake?.stop())

  const video = { enableLoopbackVideo: true, loopbackVideoDeviceNumber: VIDEO_NR }

  it('loads v4l2loopback, gives the device to the video group (660), names it in TASKCLUSTER_VIDEO_DEVICE; the bare scope suffices (loopback_video_feature_linux.go:42-87)', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'echo "dev=$TASKCLUSTER_VIDEO_DEVICE"; stat -c "%U %G %a" "$TASKCLUSTER_VIDEO_DEVICE"']], maxRunTime: 60, features: { loopbackVideo: true } }, { task: { scopes: ['generic-worker:loopback-video'] }, config: video })
    assert.equal(o.state, 'completed', o.log)
    assert.equal(readFileSync(record, 'utf8'), `v4l2loopback video_nr=${VIDEO_NR}\n`)
    assert.match(o.log, new RegExp(`^dev=${VIDEO}$`, 'm'))
    assert.match(o.log, /^root video 660$/m)
    // no osGroups: the warning (:54-56), then the line saying where the device is (:85)
    assert.match(o.log, /^\[taskcluster:warn \S+Z\] Neither 'video' nor 'docker' group is in the list of OS groups\. Consider adding so that the loopback video device will work as expected\.$/m)
    assert.match(o.log, new RegExp(`^\\[taskcluster \\S+Z\\] Loopback video device is available at ${VIDEO}$`, 'm'))
  })

  it('writes the snd-aloop options, loads it, and gives the card to the audio group, which the task user reaches through osGroups (loopback_audio_feature_linux.go:59-101)', async () => {
    const payload = { command: [['sh', '-c', `for n in /dev/snd/*C${CARD}*; do stat -c "%n %U %G %a" $n; done; test -r /dev/snd/controlC${CARD} && echo readable`]], maxRunTime: 60, osGroups: ['audio'], features: { loopbackAudio: true } }
    const scopes = [`generic-worker:loopback-audio:${POOL}`, `generic-worker:os-group:${POOL}/audio`]
    const o = await submitAndRun(fake, payload, { task: { scopes }, config: { engine: 'multiuser', enableLoopbackAudio: true, loopbackAudioDeviceNumber: CARD, tasksDir: await tasksDirFor() } })
    assert.equal(o.state, 'completed', o.log)
    assert.equal(readFileSync(ALOOP_CONF, 'utf8'), `options snd-aloop enable=1 index=${CARD}\n`)
    assert.equal(readFileSync(record, 'utf8'), 'snd-aloop\n')
    for (const node of audioDevicePaths(CARD)) {
      assert.match(o.log, new RegExp(`^${node} root audio 660$`, 'm'))
      assert.equal(statSync(node).mode & 0o777, 0o660)
    }
    assert.match(o.log, /^readable$/m)
    assert.doesNotMatch(o.log, /Neither 'audio'/)
    assert.ok(o.log.includes(`Z] Loopback audio devices are available at [${audioDevicePaths(CARD).join(' ')}]\n`), o.log)
  })

  it('refuses the task without the config switch, or without either scope, listing both alternatives (internal/scopes/scopes.go:130-151)', async () => {
    const payload = { command: [['true']], maxRunTime: 60, features: { loopbackVideo: true } }
    const off = await submitAndRun(fake, payload, { task: { scopes: ['generic-worker:loopback-video'] }, config: { enableLoopbackVideo: false } })
    assert.deepEqual([off.state, off.reason], ['exception', 'malformed-payload'])
    assert.match(off.log, /this task is attempting to use feature "LoopbackVideo", but it's not enabled on this worker pool/)
    const noScope = await submitAndRun(fake, payload, { task: { scopes: ['generic-worker:loopback-audio'] }, config: video })
    assert.deepEqual([noScope.state, noScope.reason], ['exception', 'malformed-payload'])
    assert.ok(noScope.log.includes(`Feature "LoopbackVideo" requires scopes:\n[taskcluster:error] \n[taskcluster:error] generic-worker:loopback-video:${POOL}, or\n[taskcluster:error] generic-worker:loopback-video\n[taskcluster:error] \n[taskcluster:error] but task only has scopes:\n[taskcluster:error] \n[taskcluster:error] generic-worker:loopback-audio\n`), noScope.log)
    assert.equal(existsSync(record), false, 'nothing loaded for a refused task')
  })

  it('fails with internal-error when the module cannot be loaded, in os/exec’s words (loopback_video_feature_linux.go:65-68)', async () => {
    renameSync(MODPROBE, `${MODPROBE}.aside`)
    try {
      const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 60, features: { loopbackVideo: true } }, { task: { scopes: ['generic-worker:loopback-video'] }, config: video })
      assert.deepEqual([o.state, o.reason], ['exception', 'internal-error'])
      assert.ok(o.log.includes(`could not load the v4l2loopback kernel module: fork/exec ${MODPROBE}: no such file or directory`), o.log)
    } finally {
      renameSync(`${MODPROBE}.aside`, MODPROBE)
    }
  })

  it('fails with internal-error for an audio card above 31, which the config itself accepts (loopback_audio_feature_linux.go:59-61, gwconfig/config_linux.go:14)', async () => {
    const o = await submitAndRun(fake, { command: [['true']], maxRunTime: 60, features: { loopbackAudio: true } }, { task: { scopes: ['generic-worker:loopback-audio'] }, config: { enableLoopbackAudio: true, loopbackAudioDeviceNumber: 32 } })
    assert.deepEqual([o.state, o.reason], ['exception', 'internal-error'])
    assert.ok(o.log.includes('loopback audio device number must be between 0 and 31, inclusive'), o.log)
    assert.equal(existsSync(record), false, 'refused before anything was loaded')
  })
})

/** A stand-in modprobe: records its arguments, then makes the nodes the real module would. */
function installStandIn(record: string): void {
  const nodes = audioDevicePaths(CARD).map((n) => `mknod -m 0600 ${n} c 1 3`).join('; ')
  const script = [
    '#!/bin/sh',
    `echo "$*" >> ${record}`,
    'case "$1" in',
    `  v4l2loopback) mknod -m 0600 /dev/video${VIDEO_NR} c 1 3 ;;`,
    `  snd-aloop) grep -q "index=${CARD}$" ${ALOOP_CONF} && { mkdir -p /dev/snd; ${nodes}; } ;;`,
    'esac',
    '',
  ].join('\n')
  writeFileSync(MODPROBE, script, { mode: 0o755 })
}

/** A tasksDir whose parent task users can traverse (the test helper's is private). */
async function tasksDirFor(): Promise<string> {
  const base = await mkdtemp('/tmp/megalodon-loopback-')
  await chmod(base, 0o755)
  return path.join(base, 'tasks')
}

// Loopback video and audio devices (root only: the test makes stand-in device nodes with mknod,
// as v4l2loopback and snd-aloop are not loaded on these machines).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

const POOL = 'test-provisioner/test-worker-type'
const VIDEO = '/dev/video97'
const AUDIO = ['/dev/snd/controlC27', '/dev/snd/pcmC27D0p', '/dev/snd/pcmC27D0c']

describe('loopback devices (native)', function () {
  this.timeout(60_000)
  let fake: FakeQueue
  let madeSnd = false
  before(function () {
    if (process.getuid?.() !== 0) this.skip()
    if (!existsSync('/dev/snd')) {
      mkdirSync('/dev/snd')
      madeSnd = true
    }
    // stand-ins: character devices with /dev/null's numbers
    for (const node of [VIDEO, ...AUDIO]) if (!existsSync(node)) execFileSync('mknod', ['-m', '0660', node, 'c', '1', '3'])
  })
  after(() => {
    for (const node of [VIDEO, ...AUDIO]) rmSync(node, { force: true })
    if (madeSnd) rmSync('/dev/snd', { recursive: true, force: true })
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  const video = { enableLoopbackVideo: true, loopbackVideoDeviceNumber: 97 }
  const videoScope = `generic-worker:loopback-video:${POOL}`

  it('gives the task the video device as TASKCLUSTER_VIDEO_DEVICE', async () => {
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'echo "dev=$TASKCLUSTER_VIDEO_DEVICE"; test -c "$TASKCLUSTER_VIDEO_DEVICE" && echo chardev']], maxRunTime: 60, features: { loopbackVideo: true } }, { task: { scopes: [videoScope] }, config: video })
    assert.equal(o.state, 'completed', o.log)
    assert.match(o.log, new RegExp(`^dev=${VIDEO}$`, 'm'))
    assert.match(o.log, /^chardev$/m)
  })

  it('is refused, naming what is missing: the device, the config switch, the scope', async () => {
    const payload = { command: [['true']], maxRunTime: 60, features: { loopbackVideo: true } }
    const noDevice = await submitAndRun(fake, payload, { task: { scopes: [videoScope] }, config: { ...video, loopbackVideoDeviceNumber: 96 } })
    assert.deepEqual([noDevice.state, noDevice.reason], ['exception', 'malformed-payload'])
    assert.match(noDevice.log, /This worker has no loopback video device \/dev\/video96/)
    const off = await submitAndRun(fake, payload, { task: { scopes: [videoScope] }, config: { enableLoopbackVideo: false } })
    assert.deepEqual([off.state, off.reason], ['exception', 'malformed-payload'])
    assert.match(off.log, /this task is attempting to use feature "LoopbackVideo", but it's not enabled on this worker pool/)
    const noScope = await submitAndRun(fake, payload, { config: video })
    assert.deepEqual([noScope.state, noScope.reason], ['exception', 'malformed-payload'])
    assert.ok(noScope.log.includes(videoScope))
  })

  it('lends the audio card to the task user on the multiuser engine, and takes it back', async () => {
    const payload = { command: [['sh', '-c', 'for n in /dev/snd/*C27*; do stat -c "%n %U" $n; done; whoami']], maxRunTime: 60, features: { loopbackAudio: true } }
    const config = { engine: 'multiuser', enableLoopbackAudio: true, loopbackAudioDeviceNumber: 27 }
    const o = await submitAndRun(fake, payload, { task: { scopes: [`generic-worker:loopback-audio:${POOL}`] }, config: { ...config, tasksDir: await tasksDirFor() } })
    assert.equal(o.state, 'completed', o.log)
    const user = /^(task_[\w-]+)$/m.exec(o.log)?.[1]
    assert.ok(user, o.log)
    for (const node of AUDIO) {
      assert.match(o.log, new RegExp(`^${node} ${user}$`, 'm'))
      assert.equal(statSync(node).uid, 0, `${node} is root's again`)
    }
  })
})

/** A tasksDir whose parent task users can traverse (the test helper's is private). */
async function tasksDirFor(): Promise<string> {
  const { mkdtemp } = await import('node:fs/promises')
  const base = await mkdtemp('/tmp/megalodon-loopback-')
  chmodSync(base, 0o755)
  return path.join(base, 'tasks')
}

// H5 (security-audit.md): a `task-image` tarball whose RepoTags name another image
// (`docker save` of an attacker image under a victim's tag) retagged that image in the engine;
// later tasks using the victim's name ran the attacker's image. docker-worker rewrote the
// tarball so its image got the name md5(taskId + artifact path):latest and nothing else
// (docker-worker src/docker/artifact_image.js `imageName`, `renameImageInTarball`): the same here.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { artifactImageName } from '../../executors/docker/image-tarball.js'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { submitAndRun } from '../helpers/tasks.js'

const VICTIM = `megalodon-test/h5-victim-${process.pid}:1`

/** A `docker save` of an image holding /PWNED, tagged with the victim's name; the victim tag stays the plain busybox. */
async function attackerTarball(): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'h5-'))
  const container = `h5-attacker-${process.pid}`
  try {
    execFileSync('docker', ['run', '--name', container, BUSYBOX_IMAGE, 'sh', '-c', 'echo attacker image content > /PWNED'], { stdio: 'ignore' })
    execFileSync('docker', ['commit', container, VICTIM], { stdio: 'ignore' })
    execFileSync('docker', ['save', '-o', path.join(dir, 'evil.tar'), VICTIM])
    execFileSync('docker', ['tag', BUSYBOX_IMAGE, VICTIM]) // the victim is clean again
    return await readFile(path.join(dir, 'evil.tar'))
  } finally {
    execFileSync('docker', ['rm', '-f', container], { stdio: 'ignore' })
    await rm(dir, { recursive: true, force: true })
  }
}

describe('H5: a task-image tarball’s RepoTags', function () {
  let fake: FakeQueue
  before(async function () {
    if (!dockerTestsEnabled()) this.skip()
    await dockerForTests()
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => {
    await fake?.stop()
    execFileSync('docker', ['rmi', '-f', VICTIM], { stdio: 'ignore' })
  })

  it('do not retag images in the engine: the artifact’s image gets docker-worker’s md5 name', async () => {
    const producer = await fake.seedArtifact('public/image.tar', await attackerTarball())
    const probe = ['sh', '-c', 'cat /PWNED 2>/dev/null || echo clean-image']
    const before = await submitAndRun(fake, { image: VICTIM, command: probe, maxRunTime: 60 })
    assert.match(before.log, /^clean-image\r$/m)

    const attacker = await submitAndRun(fake, { image: { type: 'task-image', taskId: producer, path: 'public/image.tar' }, command: probe, maxRunTime: 60 })
    assert.deepEqual([attacker.state, attacker.reason], ['completed', 'completed'], attacker.log)
    assert.match(attacker.log, /^attacker image content\r$/m, 'the task image itself runs')
    const name = artifactImageName(producer, 'public/image.tar')
    assert.match(name, /^[0-9a-f]{32}:latest$/)
    assert.match(attacker.log, /from task '\S+' loaded\. {2}Using image ID /)

    const after = await submitAndRun(fake, { image: VICTIM, command: probe, maxRunTime: 60 })
    assert.match(after.log, /^clean-image\r$/m, 'the victim tag still names the victim image')
  })
})

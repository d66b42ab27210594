// `make bench`'s docker and mount figures: an image from a task artifact (first task loads it,
// the second reuses it), a tar.zst mount (downloaded and unpacked once, then from the download
// cache), and a trivial docker task against a bare `docker run --rm` on the same engine.
import { spawn } from 'node:child_process'
import { mkdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { dockerodeEngine } from '../executors/docker/dockerode-engine.js'
import type { DockerEngine } from '../executors/docker/engine.js'
import { BUSYBOX_IMAGE, dockerForTests } from '../test/helpers/docker.js'
import { FakeQueue } from '../test/helpers/fake-queue/index.js'
import { runWorker } from '../test/helpers/worker.js'
import { quantile } from './stats.js'

/** An image from a task artifact: the first task downloads and loads it, the second reuses it. */
export async function cachedImage() {
  await dockerForTests()
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const tar = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    const p = spawn('docker', ['save', BUSYBOX_IMAGE])
    p.stdout.on('data', (c: Buffer) => chunks.push(c))
    p.once('exit', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`docker save exited ${code}`))))
  })
  const imageTask = await fake.seedArtifact('public/image.tar', tar)
  const ids = [slugid(), slugid()]
  for (const id of ids) await fake.createTask(id, { payload: { image: { type: 'task-image', taskId: imageTask, path: 'public/image.tar' }, command: ['true'], maxRunTime: 60 } })
  await runWorker(fake, { numberOfTasksToRun: 2 })
  const [first, second] = ids.map((id) => {
    const run = fake.state.get(id).runs[0]!
    return Date.parse(run.resolved!) - Date.parse(run.started!)
  })
  await fake.stop()
  return { imageMB: +(tar.length / 1e6).toFixed(1), firstTaskMs: first!, secondTaskMs: second!, ratio: +(second! / first!).toFixed(2) }
}

/**
 * A readOnlyDirectory mount of a 200 MB tar.zst artifact: the first task downloads and unpacks
 * it, the second unpacks it from the download cache (claim → resolution of each).
 */
export async function mountTiming(mb: number) {
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const dir = path.join(os.tmpdir(), `megalodon-bench-mount-${slugid()}`)
  await mkdir(path.join(dir, 'tree'), { recursive: true })
  // incompressible files, so the archive is as big as its content
  await new Promise((resolve) => spawn('sh', ['-c', `for i in $(seq 1 ${mb / 10}); do head -c 10000000 /dev/urandom > tree/f$i; done && tar -cf - -C tree . | zstd -q -o tree.tar.zst`], { cwd: dir }).once('exit', resolve))
  const archive = await readFile(path.join(dir, 'tree.tar.zst'))
  const producer = await fake.seedArtifact('public/tree.tar.zst', archive)
  const ids = [slugid(), slugid()]
  for (const id of ids) {
    await fake.createTask(id, { payload: { command: [['true']], maxRunTime: 600, mounts: [{ directory: 'tree', content: { taskId: producer, artifact: 'public/tree.tar.zst' }, format: 'tar.zst' }] }, dependencies: [producer] })
  }
  await runWorker(fake, { numberOfTasksToRun: 2 })
  const [first, second] = ids.map((id) => {
    const run = fake.state.get(id).runs[0]!
    return Date.parse(run.resolved!) - Date.parse(run.started!)
  })
  await rm(dir, { recursive: true, force: true })
  await fake.stop()
  return { archiveMB: +(archive.length / 1e6).toFixed(1), firstTaskMs: first!, secondTaskMs: second!, ratio: +(second! / first!).toFixed(2) }
}

/** The Engine API calls of a container's life, create → start → wait → remove, through the worker's own client. */
async function bareEngineSequenceMs(engine: DockerEngine): Promise<number> {
  const t = performance.now()
  const id = await engine.containers.create({ image: BUSYBOX_IMAGE, command: ['true'], env: {}, labels: {}, binds: [], privileged: false, devices: [], capAdd: [], extraHosts: [], shmSizeBytes: 64 * 1024 * 1024 })
  await engine.containers.start(id)
  const code = await engine.containers.wait(id)
  await engine.containers.remove(id)
  if (code !== 0) throw new Error(`true exited ${code} in the bare Engine API sequence`)
  return performance.now() - t
}

/**
 * A trivial docker task through the fake Queue vs its floors on the same engine: the bare Engine
 * API sequence through the same client (create, start, wait, remove) and `docker run --rm <image> true`.
 */
export async function dockerOverhead(n: number) {
  await dockerForTests()
  const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const id = slugid()
    ids.push(id)
    await fake.createTask(id, { payload: { image: BUSYBOX_IMAGE, command: ['true'], maxRunTime: 60 } })
  }
  await runWorker(fake, { numberOfTasksToRun: n })
  const tasks = ids.map((id) => {
    const run = fake.state.get(id).runs[0]!
    return Date.parse(run.resolved!) - Date.parse(run.started!)
  })
  await fake.stop()
  const bare: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await new Promise((resolve) => spawn('docker', ['run', '--rm', BUSYBOX_IMAGE, 'true']).once('exit', resolve))
    bare.push(performance.now() - t)
  }
  const engine = dockerodeEngine()
  const api: number[] = []
  for (let i = 0; i < n; i++) api.push(await bareEngineSequenceMs(engine))
  const task = quantile(tasks, 0.5)
  const plain = quantile(bare, 0.5)
  const sequence = quantile(api, 0.5)
  return {
    runs: n,
    taskMedianMs: task,
    dockerRunMedianMs: Math.round(plain),
    ratio: +(task / plain).toFixed(2),
    engineApiMedianMs: Math.round(sequence),
    ratioToEngineApi: +(task / sequence).toFixed(2),
  }
}

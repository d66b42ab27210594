// Real Docker for tests: the engine started by docker-up.sh, and test images built locally
// (no registry is reachable): a busybox image imported from a rootfs made of Debian's
// busybox-static.
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, symlink, copyFile, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import Docker from 'dockerode'
import { projectPath } from '../../src/lib/paths.js'

export const BUSYBOX_IMAGE = 'megalodon-test/busybox:latest'

/** Whether docker tests run; they are skipped (loudly) only with MEGALODON_SKIP_DOCKER=1. */
export function dockerTestsEnabled(): boolean {
  if (process.env.MEGALODON_SKIP_DOCKER === '1') {
    process.stderr.write('\n  !!! MEGALODON_SKIP_DOCKER=1: tests that need a Docker engine are SKIPPED !!!\n\n')
    return false
  }
  return true
}

let ready: Promise<Docker> | undefined

/** Starts the engine if needed (docker-up.sh) and builds the busybox test image once. */
export function dockerForTests(): Promise<Docker> {
  ready ??= (async () => {
    execFileSync('bash', [projectPath('test', 'helpers', 'docker-up.sh')], { stdio: ['ignore', 'ignore', 'inherit'] })
    const docker = new Docker()
    await buildBusyboxImage()
    return docker
  })()
  return ready
}

/**
 * Put the busybox image into the local registry (127.0.0.1:5000) under `tag`, and drop the
 * engine's copy of that name, so a task naming it makes the worker pull.
 */
export function imageInLocalRegistry(tag: string): string {
  execFileSync('bash', [projectPath('test', 'helpers', 'registry-up.sh')], { stdio: ['ignore', 'ignore', 'inherit'] })
  const name = `127.0.0.1:5000/megalodon/busybox:${tag}`
  execFileSync('docker', ['tag', BUSYBOX_IMAGE, name])
  execFileSync('docker', ['push', name], { stdio: 'ignore' })
  execFileSync('docker', ['rmi', name], { stdio: 'ignore' })
  return name
}

async function buildBusyboxImage(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'busybox-rootfs-'))
  try {
    await mkdir(path.join(root, 'bin'))
    await mkdir(path.join(root, 'tmp'))
    await copyFile('/usr/bin/busybox', path.join(root, 'bin', 'busybox'))
    const applets = execFileSync('/usr/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox')
    for (const applet of applets) await symlink('busybox', path.join(root, 'bin', applet))
    execFileSync('sh', ['-c', `tar -C '${root}' -c . | docker import --change 'ENV PATH=/bin' - ${BUSYBOX_IMAGE}`], { stdio: 'ignore' })
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

/** A mocha `before` hook for suites that need the engine and the test image (skipped, loudly, with MEGALODON_SKIP_DOCKER=1). */
export async function needsDocker(this: Mocha.Context): Promise<void> {
  if (!dockerTestsEnabled()) this.skip()
  await dockerForTests()
}

// A fresh temporary directory for each test of a suite, removed after it.
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/** Registers beforeEach/afterEach hooks on the current suite; the returned getter is this test's directory. */
export function useTempDir(prefix: string): () => string {
  let dir = ''
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  return () => dir
}

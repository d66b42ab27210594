// Files shipped with the project (schemas, fixtures), found from the compiled or source tree.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('megalodon: cannot find the project root (package.json)')
    dir = parent
  }
  return dir
}

export const projectRoot = findRoot()

export function projectPath(...parts: string[]): string {
  return path.join(projectRoot, ...parts)
}

/** The compiled command line's entry point (what `bin/megalodon` and the tests start). */
export const cliEntry = projectPath('dist', 'src', 'cli', 'cli.js')

/**
 * The V8 flags the launcher (bin/megalodon) runs the command line with, and that tests and the
 * bench start a worker with, so they measure what operators run. A young generation of at most
 * 1 MiB per semi-space (V8's default on 64-bit is 16 MiB): the worker allocates in short-lived
 * chunks (log pipes, uploads), and the default lets the heap grow tens of MiB between
 * scavenges. Measured with `make bench` (issue #18): peak RSS through 1 GiB of log 162 → 120
 * MiB, idle 77 → 73 MiB; log CPU with no readers and trivial tasks per minute unchanged within
 * the noise, about 10 % more CPU per MB with ten live readers.
 */
export const NODE_FLAGS = ['--max-semi-space-size=1'] as const

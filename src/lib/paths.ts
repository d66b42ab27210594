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

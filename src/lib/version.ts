// megalodon's own version (package.json), read once: what the task log headers name as the
// worker's build, as each legacy worker named its own.

import { readFileSync } from 'node:fs'
import { projectPath } from './paths.js'

let ownVersion: string | undefined

export function megalodonVersion(): string {
  ownVersion ??= String((JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: unknown }).version)
  return ownVersion
}

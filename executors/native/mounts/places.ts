// Where a mount lands: inside the task directory, or at an absolute path outside it (prepared
// inside, then moved out with the task's rights, so a multiuser mount lands only where the task
// user may write).

import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { TaskFailure } from '../../../src/contract/errors.js'

export interface MountPlace {
  target: string
  /** Outside the task directory: put there with the task's rights (see TaskMover). */
  outside: boolean
}

/**
 * The place of a mount given relative to the task directory or absolute, as generic-worker takes
 * it. Refused: the task directory itself or a directory above it (a cache there would swallow
 * it), and the worker's own `generic-worker/` directory in it (the task log).
 */
export function mountPlace(taskDir: string, where: string): MountPlace {
  const target = path.resolve(taskDir, where)
  const rel = path.relative(taskDir, target)
  if (rel === '' || taskDir.startsWith(target + path.sep)) throw new TaskFailure(`Mount target ${where} would replace the task directory`)
  const outside = rel.startsWith('..') || path.isAbsolute(rel)
  if (!outside && rel.split(path.sep)[0] === 'generic-worker') throw new TaskFailure(`Mount target ${where} is inside the worker's own generic-worker directory`)
  return { target, outside }
}

/**
 * Moves mounts between the task directory and places outside it with the rights the task runs
 * with: the worker prepares a mount inside the task directory, and the task's own user moves it
 * out (and a cache back in after the task). So a mount lands only where the task itself could
 * write, whoever the worker runs as: on the multiuser engine never somewhere only root may.
 * coreutils' `mv` also copies across file systems, which rename alone cannot.
 */
export interface TaskMover {
  /** Before moving out: make the prepared content the task's (the multiuser engine chowns it). */
  own(staged: string): Promise<void>
  /** argv run with the task's rights. */
  run(argv: string[]): Promise<void>
}

export async function moveOut(mover: TaskMover, staged: string, target: string): Promise<void> {
  await mover.own(staged)
  try {
    await mover.run(['sh', '-c', 'mkdir -p -- "$(dirname -- "$2")" && mv -T -- "$1" "$2"', 'sh', staged, target])
  } catch (err) {
    // what was staged stays in the task directory: a cache goes back to the pool from there
    throw new TaskFailure(`Cannot mount at ${target} with the task's rights: ${(err as Error).message}`)
  }
}

/** A fresh place in the task directory to prepare an outside mount in. */
export function stagingPath(taskDir: string): string {
  return path.join(taskDir, `.megalodon-mount-${randomUUID()}`)
}

// Acting with the rights of whom a task's commands run as (the task user on the multiuser engine,
// else the worker's own user): the worker puts mounts outside the task directory and reads what
// the task left for it this way, so the task can never have it touch what the task itself could
// not.

import { execFile } from 'node:child_process'
import { open } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import type { TaskMover } from './mounts/places.js'
import { asTaskUser, readAsTaskUser, type TaskUser } from './task-user.js'

const execFileAsync = promisify(execFile)

/** Moves mounts to and from places outside the task directory as whom the commands run as. */
export function taskMover(runAs: TaskUser | undefined): TaskMover {
  return {
    own: async (staged) => {
      if (runAs) await execFileAsync('chown', ['-R', '--no-dereference', `${runAs.uid}:${runAs.gid}`, staged])
    },
    run: async (argv) => {
      const full = runAs ? asTaskUser(runAs, argv) : argv
      // a task-user helper gets no environment (generic-worker: process.NewCommand(…, []string{}, pd))
      await execFileAsync(full[0]!, full.slice(1), runAs ? { env: {} } : {}).catch((err: { stderr?: string; message: string }) => {
        throw new Error(err.stderr?.trim() || err.message)
      })
    },
  }
}

/** A file the task left, read with the rights of whom the commands ran as. */
export async function readTaskFile(file: string, maxBytes: number, runAs: TaskUser | undefined): Promise<Buffer | undefined> {
  if (runAs) return readAsTaskUser(runAs, file, maxBytes)
  // the task ran as the worker's own user: whatever it points at, it could read itself; but
  // never more than one byte past the bound (a procfs file never ends: security audit H10)
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (!handle) return undefined
  try {
    const buffer = Buffer.alloc(maxBytes + 1)
    let filled = 0
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    if (filled > maxBytes) throw new Error(`${path.basename(file)} is larger than ${maxBytes} bytes`)
    return buffer.subarray(0, filled)
  } finally {
    await handle.close()
  }
}

// docker-worker's keep-alive for interactive tasks (src/features/interactive.js:117-125,
// src/shared_file_lock.js, bin-utils/interactive_wrapper_run.sh, config.yml:169-176): the
// container's command runs under a wrapper that, once the command has exited, waits 5 s and then
// until the worker's hold is gone, and exits with the command's status. The worker holds it from
// the start for `minTime` (180 s), and while any shell session is open and for
// `expirationAfterSession` (900 s) after each ends. So a session can outlive the command, and
// the task ends when nobody has needed the container for that long. The maxRunTime still
// applies to the whole, as it did.
//
// docker-worker shared an flock with the wrapper (and bind-mounted its own busybox to run it);
// here the hold is a file in a directory bind-mounted read-only into the container, and the
// wrapper is the image's /bin/sh.

import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Terminal } from '../../src/contract/terminal.js'

export interface KeepAlive {
  /** docker-worker's `interactive.minTime`. */
  minSecs: number
  /** docker-worker's `interactive.expirationAfterSession`. */
  afterSessionSecs: number
}

/** docker-worker's defaults (config.yml:169-176). */
export const DOCKER_WORKER_KEEP_ALIVE: KeepAlive = { minSecs: 180, afterSessionSecs: 900 }

/** Where the hold's directory is in the container. */
const MOUNT_POINT = '/.taskclusterinteractivesession'

// What the wrapper does, in the order interactive_wrapper_run.sh does it: run the command in the
// background so a TERM reaches it, keep its status, wait 5 s, then for the hold to go.
const WRAPPER = [
  `trap 'kill -TERM $child' TERM INT`,
  `"$@" &`,
  'child=$!',
  'wait $child',
  'trap - TERM INT',
  'wait $child',
  'status=$?',
  'sleep 5',
  `while [ -e ${MOUNT_POINT}/hold ]; do sleep 1; done`,
  'exit $status',
].join('\n')

/**
 * The container's entrypoint and command for an interactive task: the wrapper, then the image's
 * entrypoint and the payload's command (or, with none, the image's: docker-worker dropped it,
 * and the container then ran nothing but the entrypoint).
 */
export function wrappedCommand(image: { entrypoint: string[]; cmd: string[] }, command: string[]): { entrypoint: string[]; command: string[] } {
  return { entrypoint: ['/bin/sh', '-c', WRAPPER, 'interactive-wrapper'], command: [...image.entrypoint, ...(command.length > 0 ? command : image.cmd)] }
}

/** A counted hold, as docker-worker's SharedFileLock: the file exists while the count is above 0. */
export class SessionHold {
  private count = 0
  private readonly timers = new Set<NodeJS.Timeout>()
  private disposed = false
  private pending: Promise<void> = Promise.resolve()

  private constructor(
    private readonly dir: string,
    private readonly keepAlive: KeepAlive,
  ) {}

  /** Make the hold's directory in `parent`, held from now for minTime. */
  static async start(parent: string, keepAlive: KeepAlive): Promise<SessionHold> {
    const dir = path.join(parent, 'interactive-session')
    await mkdir(dir, { recursive: true })
    const hold = new SessionHold(dir, keepAlive)
    await hold.acquire()
    hold.releaseAfter(keepAlive.minSecs)
    return hold
  }

  /** The `host:container:ro` bind mount of the hold's directory. */
  get bind(): string {
    return `${this.dir}:${MOUNT_POINT}:ro`
  }

  /** A session opened; its end calls the returned function (once), which releases after expirationAfterSession. */
  async session(): Promise<() => void> {
    await this.acquire()
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.releaseAfter(this.keepAlive.afterSessionSecs)
    }
  }

  /** The task is over: no timer outlives it. */
  async dispose(): Promise<void> {
    this.disposed = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    await this.pending
    await rm(this.dir, { recursive: true, force: true })
  }

  private acquire(): Promise<void> {
    this.count++
    return this.sync()
  }

  private releaseAfter(secs: number): void {
    const release = () => {
      this.count--
      void this.sync()
    }
    if (secs <= 0) return release()
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      release()
    }, secs * 1000)
    timer.unref()
    this.timers.add(timer)
  }

  /** Make the file say whether the count is above 0 (one change at a time, in order). */
  private sync(): Promise<void> {
    const file = path.join(this.dir, 'hold')
    this.pending = this.pending
      .then(async () => {
        if (this.disposed) return
        if (this.count > 0) await writeFile(file, '')
        else await rm(file, { force: true })
      })
      // a hold the disk refuses is no hold: the task then ends with its command
      .catch(() => undefined)
    return this.pending
  }
}

/** A session's terminal whose end (its exit, or its client going) ends its share of the hold. */
export function heldTerminal(terminal: Terminal, ended: (() => void) | undefined): Terminal {
  if (!ended) return terminal
  return {
    ...terminal,
    onExit: (listener) =>
      terminal.onExit((code) => {
        ended()
        listener(code)
      }),
    kill: () => {
      ended()
      terminal.kill()
    },
  }
}

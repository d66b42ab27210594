// One pipe for a command's stdout and stderr. generic-worker gives both the same writer, and Go's
// os/exec then gives the child one pipe for fds 1 and 2 (interfaceEqual(c.Stderr, c.Stdout)):
// what the command writes to either arrives in the order it was written, and `> /dev/stderr`
// reopens that pipe. Node's own stdio pipes are two UNIX sockets, which /dev/stdout and
// /dev/stderr cannot be opened on (ENXIO). Node has no pipe(2), so this is a FIFO made in a
// private directory and unlinked at once: the worker keeps the read end (read through the event
// loop), the command gets the write end as fds 1 and 2. Both ends are close-on-exec in the worker,
// so no other command inherits them, and the reader sees EOF once the command and everything it
// left behind have closed theirs.

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { workerTool } from './look-path.js'

const run = promisify(execFile)
let fifoDir: string | undefined
let mkfifo: string | undefined

/**
 * FIFOs made ahead of need, many per `mkfifo` run: making one when a command starts spawned a
 * process on every command's critical path (3 ms or more of a trivial task's time; issue #18).
 * Node forks synchronously (about 2 ms of a blocked event loop here), so even a refill behind
 * the stock stalls whichever task is running then: with 4 per run one command in four met that
 * stall, with 32 one in 32. A name in the worker's 0700 directory costs nothing else.
 */
const STOCK_BATCH = 32
/** The stock is topped up when it falls below this (a few commands starting at once still find one). */
const STOCK_LOW = 8
const stock: string[] = []
let refilling: Promise<void> | undefined

function refill(): Promise<void> {
  refilling ??= (async () => {
    // mode 0700, the worker's: nobody else can open a FIFO while it has a name
    fifoDir ??= mkdtempSync(path.join(os.tmpdir(), 'megalodon-output-'))
    const dir = fifoDir
    const names = Array.from({ length: STOCK_BATCH }, () => path.join(dir, randomBytes(8).toString('hex')))
    // 0600, as the kernel's own pipes: a task user cannot reopen the worker's through /proc either;
    // not a synchronous spawn: other tasks' output goes on streaming meanwhile
    await run((mkfifo ??= workerTool('mkfifo')), ['-m', '0600', ...names])
    stock.push(...names)
  })().finally(() => (refilling = undefined))
  return refilling
}

/** A fresh FIFO's name, from the stock (made now only when it is empty); the stock is topped up behind. */
async function takeFifo(): Promise<string> {
  while (stock.length === 0) await refill()
  const file = stock.shift()!
  // a failure here is met again, and thrown, by the next command that finds the stock empty
  if (stock.length < STOCK_LOW) refill().catch(() => undefined)
  return file
}

export interface OutputPipe {
  /** For the command: its fds 1 and 2. */
  writer: number
  /** The command has started: the worker's copy of the write end is closed, the read end returned as a stream. */
  started(): net.Socket
  /** The command did not start: both ends are closed. */
  abandon(): void
}

export async function outputPipe(): Promise<OutputPipe> {
  const file = await takeFifo()
  let readFd: number | undefined
  let writeFd: number
  try {
    // the read end first, without blocking; then the write end opens at once
    readFd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
    writeFd = openSync(file, constants.O_WRONLY)
  } catch (err) {
    if (readFd !== undefined) closeSync(readFd)
    throw err
  } finally {
    rmSync(file, { force: true })
  }
  const reader = readFd
  return {
    writer: writeFd,
    started() {
      closeSync(writeFd)
      return new net.Socket({ fd: reader, readable: true, writable: false })
    },
    abandon() {
      closeSync(writeFd)
      closeSync(reader)
    },
  }
}

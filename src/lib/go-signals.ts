// How Go names a signal (syscall.Signal.String() on Linux), as an os/exec ExitError prints it:
// "signal: killed". Signals missing from Go's table print as "signal <n>".

import { constants } from 'node:os'

const goNames: Record<number, string> = {
  1: 'hangup',
  2: 'interrupt',
  3: 'quit',
  4: 'illegal instruction',
  5: 'trace/breakpoint trap',
  6: 'aborted',
  7: 'bus error',
  8: 'floating point exception',
  9: 'killed',
  10: 'user defined signal 1',
  11: 'segmentation fault',
  12: 'user defined signal 2',
  13: 'broken pipe',
  14: 'alarm clock',
  15: 'terminated',
  16: 'stack fault',
  17: 'child exited',
  18: 'continued',
  19: 'stopped (signal)',
  20: 'stopped',
  21: 'stopped (tty input)',
  22: 'stopped (tty output)',
  23: 'urgent I/O condition',
  24: 'CPU time limit exceeded',
  25: 'file size limit exceeded',
  26: 'virtual timer expired',
  27: 'profiling timer expired',
  28: 'window changed',
  29: 'I/O possible',
  30: 'power failure',
  31: 'bad system call',
}

/** `signal: <name>` for a Node signal name (SIGKILL → "signal: killed"). */
export function goSignalExit(signal: NodeJS.Signals): string {
  const n = (constants.signals as Record<string, number>)[signal]
  if (n === undefined) return `signal: ${signal}`
  return `signal: ${goNames[n] ?? `signal ${n}`}`
}

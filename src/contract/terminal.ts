// A terminal inside a task's environment, for the interactive feature: whatever opens it (a
// pseudo-terminal on the host, a `docker exec` with a TTY), the feature sees this shape.

export interface TerminalSize {
  cols: number
  rows: number
}

export interface Terminal {
  write(data: Buffer): void
  resize(size: TerminalSize): void
  onData(listener: (data: Buffer) => void): void
  /** Called once, with the exit code (or -1 when unknown). */
  onExit(listener: (code: number) => void): void
  /** Stop reading while the client catches up. */
  pause(): void
  resume(): void
  kill(): void
}

/** Opens a terminal running `command` (the environment's default shell when absent). */
export type OpenTerminal = (command: string[] | undefined, size: TerminalSize) => Promise<Terminal>


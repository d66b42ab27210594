// Every difference between the platforms generic-worker runs native tasks on, in one place:
// how a payload command becomes a process (an argv on Linux and macOS; a generated .bat file
// run by cmd.exe on Windows), how paths in the payload resolve, which features exist, and the
// interactive shell. Linux runs here; macOS and Windows are exercised by unit tests only
// (test/unit/platform.test.ts), so a port is configuration, not a rewrite.

import { existsSync } from 'node:fs'
import path from 'node:path'
import { shellEscape } from './shell-escape.js'

export type PlatformName = 'linux' | 'darwin' | 'windows'

export interface PreparedCommand {
  /** What `Executing command N: …` shows: the payload's command as written. */
  display: string
  /** What is spawned. */
  argv: string[]
  /** Files to write (absolute path → content) before spawning. */
  files: Record<string, string>
}

export interface Platform {
  readonly name: PlatformName
  /** Features of the payload schema that exist only on some platforms. */
  supports(feature: 'loopbackVideo' | 'loopbackAudio' | 'runAsAdministrator' | 'hideCmdWindow' | 'rdpInfo'): boolean
  /** Command `index` of the payload, ready to run in `taskDir`. */
  prepareCommand(command: unknown, index: number, taskDir: string): PreparedCommand
  /** A path from the payload (artifact, mount): relative to the task directory, or absolute. */
  resolvePath(taskDir: string, p: string): string
  /** An artifact's default name from its path: forward slashes (only Windows converts; artifact_feature.go:388-393). */
  canonicalName(p: string): string
  /** The interactive shell. */
  shell(): string[]
}

/** Linux and macOS: commands are argv arrays, run directly (no shell). */
function posix(name: 'linux' | 'darwin'): Platform {
  return {
    name,
    supports: (feature) => name === 'linux' && (feature === 'loopbackVideo' || feature === 'loopbackAudio'),
    prepareCommand(command) {
      const argv = command as string[]
      return { display: shellEscape(argv), argv, files: {} }
    },
    // fileutil.AbsFrom: absolute paths as they are, others joined (and cleaned); a backslash
    // is an ordinary character on posix
    resolvePath: (taskDir, p) => (path.posix.isAbsolute(p) ? p : path.posix.join(taskDir, p)),
    canonicalName: (p) => p,
    // generic-worker's interactive shell on posix: bash, else sh
    shell: () => [existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh'],
  }
}

/**
 * A value as a cmd.exe `set` would need it, were it written into a script: `%` doubled, and the
 * characters cmd treats specially escaped with `^`. (megalodon passes the payload's env through
 * the process environment instead, so this is for the lines a script must spell out.)
 */
export function escapeForCmd(value: string): string {
  return value.replace(/%/g, '%%').replace(/([\^&|<>()])/g, '^$1')
}

/**
 * Windows: each command is one cmd.exe line. As generic-worker does, it goes into its own
 * `command_<NNNNNN>.bat` (echo on, so the log shows what ran), called by a wrapper that first
 * loads the environment the previous command left (a `set` in one command is seen by the next),
 * changes to the task directory, calls the command, and saves the environment for the next one.
 */
const windows: Platform = {
  name: 'windows',
  supports: (feature) => feature === 'runAsAdministrator' || feature === 'hideCmdWindow' || feature === 'rdpInfo',
  prepareCommand(command, index, taskDir) {
    const line = command as string
    const n = String(index).padStart(6, '0')
    const join = (f: string) => path.win32.join(taskDir, f)
    const script = join(`command_${n}.bat`)
    const wrapper = join(`command_${n}_wrapper.bat`)
    const previousEnv = index > 0 ? join(`env_${String(index - 1).padStart(6, '0')}.txt`) : undefined
    const lines = [
      '@echo off',
      ...(previousEnv ? [`for /f "usebackq delims=" %%v in ("${previousEnv}") do set "%%v"`] : []),
      `cd /d "${taskDir}"`,
      `call "${script}"`,
      'set MEGALODON_EXIT_CODE=%ERRORLEVEL%',
      `set > "${join(`env_${n}.txt`)}"`,
      'exit /b %MEGALODON_EXIT_CODE%',
    ]
    return {
      display: line,
      argv: ['cmd.exe', '/d', '/c', wrapper],
      files: { [script]: `@echo on\r\n${line}\r\n`, [wrapper]: lines.join('\r\n') + '\r\n' },
    }
  },
  resolvePath(taskDir, p) {
    const normalised = p.replace(/\//g, '\\')
    return path.win32.isAbsolute(normalised) ? normalised : path.win32.join(taskDir, normalised)
  },
  canonicalName: (p) => p.replace(/\\/g, '/'),
  shell: () => ['powershell.exe'],
}

export const platforms: Record<PlatformName, Platform> = {
  linux: posix('linux'),
  darwin: posix('darwin'),
  windows,
}

/** The platform this worker runs on. */
export function currentPlatform(): Platform {
  return process.platform === 'win32' ? platforms.windows : process.platform === 'darwin' ? platforms.darwin : platforms.linux
}

// "Production history" for replay and shadow tests: runs a legacy worker resolved, with backing
// logs in the legacy formats, read anonymously as deployments allow.

export const ANONYMOUS_ROLE = ['queue:get-artifact:public/*', 'queue:get-task:*', 'queue:status:*', 'queue:list-artifacts:*', 'queue:list-task-group:*', 'queue:list-workers:*', 'queue:get-worker:*']

/** A generic-worker backing log as production wrote it, ending in this exit code. */
export function genericWorkerLog(exitCode: number, output = 'hello'): string {
  const t = '[taskcluster 2026-11-20T10:00:00.000Z]'
  return [
    `${t} Worker Type (prod/linux) settings:`,
    `${t} Task ID: X`,
    `${t} === Task Starting ===`,
    `${t} Executing command 0: sh -c 'echo hello > out.txt'`,
    output,
    `${t}    Exit Code: ${exitCode}`,
    `${t}    User Time: 1ms`,
    `${t} === Task Finished ===`,
    `${t} Task Duration: 5ms`,
    '',
  ].join('\n')
}

export function dockerWorkerLog(exitCode: number, output = 'hello'): string {
  const t = '[taskcluster 2026-11-20 10:00:00.000Z]'
  return [`${t} Task ID: X`, `${t} === Task Starting ===`, output, `${t} === Task Finished ===`, `${t} ${exitCode === 0 ? 'Successful' : 'Unsuccessful'} task run with exit code: ${exitCode} completed in 0.5 seconds`, ''].join('\r\n')
}

/** A generic-worker task writing out.txt, as production ran it. */
export function genericTask(extra: Record<string, unknown> = {}) {
  return {
    payload: { command: [['sh', '-c', 'echo hello > out.txt']], maxRunTime: 60, artifacts: [{ type: 'file', path: 'out.txt', name: 'public/out.txt' }], ...extra },
  }
}

export function productionArtifacts(out: string | undefined, log: string) {
  return [
    ...(out === undefined ? [] : [{ name: 'public/out.txt', content: out, contentType: 'text/plain; charset=utf-8' }]),
    { name: 'public/logs/live_backing.log', content: log, contentType: 'text/plain; charset=utf-8', gzip: true },
    { name: 'public/logs/live.log', link: 'public/logs/live_backing.log' },
  ]
}

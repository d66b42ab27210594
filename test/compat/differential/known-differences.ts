// Every difference the differential test allows, each with its reason. One entry per
// difference: delete an entry when the difference is gone (the test prints entries nothing
// matched). `cases` names the cases it applies to ('*': any case); `pattern` matches one line
// of diff.ts's output.

export type Why =
  /** docker-worker did something that hurt users, and megalodon does not (lead decision). */
  | 'docker-worker bug fixed deliberately'
  /** The reference kit runs docker-worker without something (live log server, proxy…). */
  | 'reference-kit limitation'
  /** Different by design, documented in the README. */
  | 'deliberate'

export interface KnownDifference {
  cases: string[] | '*'
  pattern: RegExp
  kind: Why
  why: string
}

export const KNOWN_DIFFERENCES: KnownDifference[] = [
  // ---- Queue calls
  { cases: '*', pattern: /^call - expandScopes$/, kind: 'deliberate', why: 'docker-worker asked auth.expandScopes for every task (src/task.js:408); megalodon only when a cache or device check depends on a role (executors/docker/task-scopes.ts)' },
  { cases: '*', pattern: /^call \+ createArtifact public\/logs\/live\.log$/, kind: 'reference-kit limitation', why: 'the kit runs docker-worker without its live log server, so it makes only the live.log link; megalodon makes the reference first and then the link, as docker-worker with the server did (src/features/local_live_log.js)' },
  // ---- task log lines
  { cases: '*', pattern: /^log - +at /, kind: 'deliberate', why: "docker-worker printed the JavaScript stack of its error (e.stack: frames of docker-worker's own source files); megalodon prints the error's first line, `Error: <message>`, and no frames of code it does not have" },
  { cases: ['device without scope'], pattern: /^log [-+] (\[object Object\]|\{"A)/, kind: 'docker-worker bug fixed deliberately', why: 'docker-worker printed both scope expressions of its device refusal as [object Object] (src/task.js:169,175), hiding the scope the task lacks; megalodon prints them as JSON, as its cache refusal does (src/task.js:106,110)' },
  // ---- resolutions and artifacts
  { cases: ['unsupported feature', 'disabled feature (taskclusterProxy)', 'disabled feature false (taskclusterProxy)'], pattern: /^(log \+|artifact public\/logs\/live(_backing)?\.log: only megalodon|call \+ (createArtifact public\/logs\/live_backing|s3Put public\/logs\/live_backing))/, kind: 'docker-worker bug fixed deliberately', why: 'docker-worker reports a task asking for an unknown or not-enabled feature failed with no log at all, the reason only on its own stdout (src/task.js:57-74,335-341); megalodon uploads the task log with the reason' },
  // ---- docker-worker bugs megalodon fixes (lead decisions)
  { cases: ['no command'], pattern: /^(resolution: running\/- ≠ failed\/failed|log \+ |artifact public\/logs\/live(_backing)?\.log: only megalodon|call \+ (createArtifact public\/logs\/live_backing\.log|s3Put public\/logs\/live_backing\.log|reportFailed))/, kind: 'docker-worker bug fixed deliberately', why: 'docker-worker never resolves a task whose container cannot start for want of a command (the engine says "No command specified"); it keeps its only slot until the claim expires. megalodon fails it with a log' },
  { cases: ['device not offered'], pattern: /^(resolution: (pending|running)\/- ≠ failed\/failed|log \+ |artifact public\/logs\/live(_backing)?\.log: only megalodon|call \+ (createArtifact public\/logs\/live_backing\.log|s3Put public\/logs\/live_backing\.log|reportFailed|purgeRequests))/, kind: 'docker-worker bug fixed deliberately', why: 'docker-worker never resolves a task asking for a device it does not offer ("Unrecognized device requested" on its stdout); lead decision: failed. When its slot is held by the no-command task it never claims this one, so it asks purge-cache nothing' },
]

export function explain(caseName: string, difference: string): KnownDifference | undefined {
  return KNOWN_DIFFERENCES.find((k) => (k.cases === '*' || k.cases.includes(caseName)) && k.pattern.test(difference))
}

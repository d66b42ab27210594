// What may differ between two runs of the same payload without being a difference in behaviour,
// each a named rule: the rule's name is printed next to every difference, so a rule that hides
// too much is easy to see and to remove.

import type { Observation } from './observe.js'

export interface Rule {
  name: string
  why: string
  apply(text: string): string
}

/** The rules for one copy of a task (its id is one of them). */
export function rulesFor(taskId: string): Rule[] {
  return [
  { name: 'task id', why: 'each worker runs its own copy of the task', apply: (t) => t.split(taskId).join('<taskId>') },
  { name: 'timestamps', why: 'the clock', apply: (t) => t.replace(/\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>') },
  { name: 'worker version', why: 'docker-worker printed 99.2.1, megalodon its own version', apply: (t) => t.replace(/^(\[taskcluster <time>\] Worker Version: ).*$/gm, '$1<version>') },
  { name: 'durations', why: 'how long the container ran', apply: (t) => t.replace(/completed in \d+(\.\d+)? seconds/g, 'completed in <s> seconds') },
  { name: 'line ends', why: 'a TTY container writes \\r\\n; compared line by line', apply: (t) => t.replace(/\r\n/g, '\n') },
  { name: 'container and image ids', why: 'made by the engine per run', apply: (t) => t.replace(/\b(sha256:)?[0-9a-f]{64}\b/g, '<id>') },
  { name: 'temporary paths', why: 'per-run directories (caches, downloads)', apply: (t) => t.replace(/\/tmp\/[^\s"']+|\/opt\/dw\/[^\s"']+/g, '<path>') },
  ]
}

export function normaliseText(text: string, taskId: string): string {
  return rulesFor(taskId).reduce((out, rule) => rule.apply(out), text)
}

/**
 * The observation with every rule applied. The calls are compared as a sorted list: megalodon
 * uploads artifacts in parallel (`uploadConcurrency`), docker-worker one after another.
 */
export function normalise(o: Observation, taskId: string): Observation {
  return {
    resolution: o.resolution,
    log: normaliseText(o.log, taskId),
    artifacts: o.artifacts.map((a) => ({ ...a, ...(a.content !== undefined ? { content: normaliseText(a.content, taskId) } : {}) })),
    calls: [...o.calls].sort(),
  }
}

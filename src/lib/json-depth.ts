// Task payloads are walked recursively (schema validation, cloning); a payload nested 100,000
// deep overflowed the stack. Go's encoding/json, which generic-worker decodes payloads with,
// refuses input nested deeper than 10,000 (scanner.go, maxNestingDepth): the same bound here,
// checked without recursion.

export const MAX_JSON_DEPTH = 10_000

/** Whether a parsed JSON value nests arrays/objects deeper than `max`. */
export function jsonDeeperThan(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (depth > max) return true
    for (const child of Object.values(v as object)) stack.push([child, depth + 1])
  }
  return false
}

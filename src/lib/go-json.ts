// JSON as Go's encoding/json writes it with MarshalIndent(v, "", "  "): the top level keeps
// its field order (a Go struct), maps inside are sorted by key, and `<`, `>`, `&`, U+2028 and
// U+2029 are escaped. generic-worker signs bytes made this way, so ours must be identical.

export function goMarshalIndent(value: Record<string, unknown>, structs: readonly string[] = []): Buffer {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v
  // `structs`: top-level values that are Go structs too, whose fields keep their order
  const top = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structs.includes(k) ? v : sorted(v)]))
  return Buffer.from(goEscape(JSON.stringify(top, null, 2)))
}

/** encoding/json's HTML-safe escaping of JSON text: `<`, `>`, `&`, U+2028, U+2029 as \u escapes. */
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** json.Marshal of a flat Go map (`map[string]any`): compact, keys sorted, escaped as Go escapes. */
export function goMarshalFlatMap(value: Record<string, string | number | boolean>): string {
  return goEscape(JSON.stringify(Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]]))))
}

/** Nesting mergemap v0.0.1 allows before it panics (its MaxDepth). */
export const MERGE_MAX_DEPTH = 32

/**
 * `mergemap.Merge(dst, src)` as generic-worker's pinned version (v0.0.1) merges decoded JSON:
 * every key of src replaces dst's, except that where both values are objects they merge the
 * same way, one level deeper; arrays are replaced, never joined. Nested more than
 * MERGE_MAX_DEPTH objects deep on both sides, it throws (mergemap panics). dst is modified.
 */
export function goMergeMap(dst: Record<string, unknown>, src: Record<string, unknown>, depth = 0): Record<string, unknown> {
  if (depth > MERGE_MAX_DEPTH) throw new Error('too deep!')
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
  for (const [key, value] of Object.entries(src)) {
    const existing = Object.hasOwn(dst, key) ? dst[key] : undefined
    const merged = isObject(existing) && isObject(value) ? goMergeMap(existing, value, depth + 1) : value
    // a data property even for "__proto__", which JSON.parse makes an ordinary key
    Object.defineProperty(dst, key, { value: merged, enumerable: true, writable: true, configurable: true })
  }
  return dst
}

/** MarshalIndent of a Go map (`map[string]any`): every level sorted by key, the top included. */
export function goMarshalIndentMap(value: Record<string, unknown>): Buffer {
  return goMarshalIndent(Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]])))
}

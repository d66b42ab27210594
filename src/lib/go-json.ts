// JSON as Go's encoding/json writes it with MarshalIndent(v, "", "  "): the top level keeps
// its field order (a Go struct), maps inside are sorted by key, and `<`, `>`, `&`, U+2028 and
// U+2029 are escaped. generic-worker signs bytes made this way, so ours must be identical.

export function goMarshalIndent(value: Record<string, unknown>, structs: readonly string[] = []): Buffer {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v
  // `structs`: top-level values that are Go structs too, whose fields keep their order
  const top = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structs.includes(k) ? v : sorted(v)]))
  const text = JSON.stringify(top, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return Buffer.from(text)
}

// Go's net/url query encoding, for URLs a legacy worker built with url.Values and that someone
// may compare byte for byte (the interactive shell's link).

/** url.QueryEscape: only letters, digits and `-_.~` stay; a space is `+`; upper-case hex. */
export function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
}

/** url.Values.Encode: `key=value` pairs sorted by key, joined by `&`. */
export function goValuesEncode(values: Record<string, string>): string {
  return Object.keys(values)
    .sort()
    .map((k) => `${goQueryEscape(k)}=${goQueryEscape(values[k]!)}`)
    .join('&')
}

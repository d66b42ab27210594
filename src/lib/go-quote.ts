// Go's strconv.Quote (what fmt's %q prints for a string): double quotes; `"` and `\` escaped;
// \a \b \f \n \r \t \v; other control characters as \xNN (below U+0080) or \uNNNN/\UNNNNNNNN;
// printable characters (letters, marks, numbers, punctuation, symbols, ASCII space) as they are.

const named: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' }

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u

export function goQuote(s: string): string {
  let out = '"'
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    if (named[ch]) out += named[ch]
    else if (printable.test(ch)) out += ch
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`
    // a lone surrogate is not valid UTF-8: Go would see U+FFFD's bytes replaced
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd'
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`
    else out += `\\U${cp.toString(16).padStart(8, '0')}`
  }
  return out + '"'
}

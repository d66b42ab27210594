// The config file as generic-worker decodes it: Go's encoding/json into the Config struct with
// DisallowUnknownFields (gwconfig/config.go:282-296). What fails here is an unmarshal error,
// which generic-worker exits 64 for (main.go:178-179): an unknown key, a value of the wrong JSON
// type, a negative or fractional number for an unsigned field, a number past its Go type, an
// IP address that does not parse.

import { isIP } from 'node:net'
import { ConfigUnreadable } from '../contract/errors.js'
import type { ConfigKeySpec } from './config-keys.js'

/**
 * Go's strings.EqualFold, one character at a time: equal, or equal in lower or in upper case
 * (so `ſ` matches `s` and the Kelvin sign `K` matches `k`, as Unicode simple folding does).
 */
function equalFold(a: string, b: string): boolean {
  const ca = [...a]
  const cb = [...b]
  if (ca.length !== cb.length) return false
  return ca.every((x, i) => {
    const y = cb[i]!
    return x === y || x.toLowerCase() === y.toLowerCase() || x.toUpperCase() === y.toUpperCase()
  })
}

/**
 * The key a JSON name decodes into: the exact name, else a name equal to it under case folding
 * (encoding/json's field matching), else undefined (an unknown field).
 */
export function canonicalKey(name: string, keys: readonly string[]): string | undefined {
  if (keys.includes(name)) return name
  return keys.find((k) => equalFold(k, name))
}

/**
 * One layer with every name replaced by its canonical key. Names that decode into the same key
 * keep the last value in document order, as decoding into the same struct field does. JSON null
 * leaves a field as it was (encoding/json: null is a no-op for non-pointer fields): dropped.
 */
export function canonicalLayer(layer: Record<string, unknown>, keys: readonly string[], extraKeys: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const unknown: string[] = []
  for (const [name, value] of Object.entries(layer)) {
    const key = canonicalKey(name, [...keys, ...extraKeys])
    if (key === undefined) unknown.push(name)
    else if (value === null) delete out[key]
    else out[key] = value
  }
  if (unknown.length > 0) {
    // json: unknown field "<name>" (the first one), as the decoder stops there
    throw new ConfigUnreadable(`json: unknown field ${JSON.stringify(unknown[0])}${unknown.length > 1 ? ` (and ${unknown.slice(1).map((k) => JSON.stringify(k)).join(', ')})` : ''}: see the README's configuration table`)
  }
  return out
}

const jsonType = (v: unknown) => (Array.isArray(v) ? 'array' : typeof v === 'number' ? 'number' : typeof v)

/** Throws the unmarshal error Go would give for this value of this key, if any. */
export function checkDecodes(key: string, spec: ConfigKeySpec, value: unknown): void {
  const fail = (what: string) => {
    throw new ConfigUnreadable(`json: cannot unmarshal ${what} into config key "${key}" (${spec.type === 'integer' ? `an unsigned ${spec.uintBits ?? 64}-bit integer` : `a ${spec.type}`})`)
  }
  const actual = jsonType(value)
  switch (spec.type) {
    case 'any':
      return
    case 'integer':
      if (actual !== 'number') return fail(actual)
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) >= 2 ** (spec.uintBits ?? 64)) return fail(`number ${String(value)}`)
      return
    case 'object':
      if (actual !== 'object') return fail(actual)
      return
    default:
      if (actual !== spec.type) return fail(actual)
  }
  if (spec.ip && value !== '' && isIP(value as string) === 0) throw new ConfigUnreadable(`invalid IP address in config key "${key}": ${JSON.stringify(value)}`)
}

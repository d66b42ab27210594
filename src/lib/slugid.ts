// Task ids for `megalodon local`, in Taskcluster's "nice" slugid form: a random (v4) UUID in URL-safe
// base64 without padding, 22 characters, whose first bit is 0 so it never starts with `-`. Written
// here rather than imported so that `local` and `run` do not load taskcluster-client at start.

import { randomBytes } from 'node:crypto'

export function niceSlugid(): string {
  const bytes = randomBytes(16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x40 // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80 // RFC 4122 variant
  bytes[0] = bytes[0]! & 0x7f // "nice": the first base64 character is A-f, never - or _
  return bytes.toString('base64url')
}

// ed25519 keys for `ed25519SigningKeyLocation`. generic-worker's file is the standard base64 of
// the 32-byte seed, no newline (workers/generic-worker/ed25519.go:33-43), read back with Go's
// base64.StdEncoding, which skips \r and \n, then ed25519.NewKeyFromSeed
// (ed25519_multiuser.go:12-22). docker-worker's file is the base64 of the 64-byte tweetnacl
// secret key, seed then public key (docker-worker src/features/chain_of_trust.js:29-30), the
// format megalodon wrote before; it is still read. Node's crypto signs with KeyObjects, so the
// raw bytes are wrapped in their DER envelopes.

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'

// The fixed DER prefixes of an ed25519 PKCS#8 private key and SPKI public key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export interface SigningKey {
  privateKey: KeyObject
  /** base64 of the raw 32-byte public key, as `new-ed25519-keypair` prints it. */
  publicKeyBase64: string
}

/**
 * The file cannot be read, or is not base64: generic-worker's MissingED25519PrivateKey
 * (chain_of_trust_feature.go:84-91), which it exits 82 for.
 */
export class SigningKeyUnreadable extends Error {}

/**
 * The base64 decodes to a length no key has: generic-worker's NewKeyFromSeed panics, and the
 * worker exits 69 (main.go:409-414, 455-457).
 */
export class SigningKeyMalformed extends Error {}

/** Go's base64.StdEncoding: padded standard alphabet, \r and \n skipped, anything else an error. */
function decodeStdBase64(text: string): Buffer {
  const compact = text.replace(/[\r\n]/g, '')
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(={0,2})$/.test(compact) || /=[^=]/.test(compact)) {
    throw new SigningKeyUnreadable('illegal base64 data')
  }
  return Buffer.from(compact, 'base64')
}

export function signingKeyFromBase64(text: string): SigningKey {
  const raw = decodeStdBase64(text)
  if (raw.length !== 32 && raw.length !== 64) {
    throw new SigningKeyMalformed(`an ed25519 key file holds a 32-byte seed (or a 64-byte seed and public key), this one decodes to ${raw.length} bytes`)
  }
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
  const derived = rawPublicKey(createPublicKey(privateKey))
  if (raw.length === 64 && !derived.equals(raw.subarray(32))) throw new SigningKeyMalformed('the public half of this ed25519 key does not belong to its seed')
  return { privateKey, publicKeyBase64: derived.toString('base64') }
}

export async function readSigningKey(file: string): Promise<SigningKey> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new SigningKeyUnreadable(`cannot read the ed25519 signing key ${file}: ${(err as Error).message}`)
  }
  try {
    return signingKeyFromBase64(text)
  } catch (err) {
    const Kind = err instanceof SigningKeyUnreadable ? SigningKeyUnreadable : SigningKeyMalformed
    throw new Kind(`${file} is not an ed25519 signing key: ${(err as Error).message}`)
  }
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length)
}

/** A fresh key pair: the private key file's text (base64 of the seed) and the public key's base64. */
export function generateKeyPair(): { privateKeyBase64: string; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length)
  return { privateKeyBase64: seed.toString('base64'), publicKeyBase64: rawPublicKey(publicKey).toString('base64') }
}

/**
 * Writes the private key as generic-worker does (ed25519.go:33-43: os.Create, so an existing file
 * is overwritten), except that a new file is readable by its owner only (0600), where Go's
 * os.Create leaves it 0666 less the umask. Returns the public key's base64.
 */
export async function writeKeyPair(file: string): Promise<string> {
  const pair = generateKeyPair()
  await writeFile(file, pair.privateKeyBase64, { mode: 0o600 })
  return pair.publicKeyBase64
}

/** The detached 64-byte signature. */
export function signDetached(key: SigningKey, data: Buffer): Buffer {
  return sign(null, data, key.privateKey)
}

export function verifyDetached(publicKeyBase64: string, data: Buffer, signature: Buffer): boolean {
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKeyBase64, 'base64')]), format: 'der', type: 'spki' })
  return verify(null, data, key, signature)
}

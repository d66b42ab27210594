// ed25519 keys in the file format generic-worker and docker-worker share for
// `ed25519SigningKeyLocation`: the base64 (standard alphabet) of the 64-byte private key as Go's
// crypto/ed25519 and libsodium hold it, the 32-byte seed followed by the 32-byte public key.
// Node's crypto signs with KeyObjects, so the raw bytes are wrapped in their DER envelopes.

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

export function signingKeyFromBase64(text: string): SigningKey {
  const raw = Buffer.from(text.trim(), 'base64')
  if (raw.length !== 64) throw new Error(`an ed25519 private key is 64 bytes (seed and public key), this one decodes to ${raw.length}`)
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
  const derived = rawPublicKey(createPublicKey(privateKey))
  if (!derived.equals(raw.subarray(32))) throw new Error('the public half of this ed25519 key does not belong to its seed')
  return { privateKey, publicKeyBase64: derived.toString('base64') }
}

export async function readSigningKey(file: string): Promise<SigningKey> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new Error(`cannot read the ed25519 signing key ${file}: ${(err as Error).message}`)
  }
  try {
    return signingKeyFromBase64(text)
  } catch (err) {
    throw new Error(`${file} is not an ed25519 signing key: ${(err as Error).message}`)
  }
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length)
}

/** A fresh key pair: the private key file's text and the public key's base64. */
export function generateKeyPair(): { privateKeyBase64: string; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length)
  const pub = rawPublicKey(publicKey)
  return { privateKeyBase64: Buffer.concat([seed, pub]).toString('base64'), publicKeyBase64: pub.toString('base64') }
}

/** Writes the private key readable by its owner only; refuses to overwrite a key. */
export async function writeKeyPair(file: string): Promise<string> {
  const pair = generateKeyPair()
  await writeFile(file, pair.privateKeyBase64, { mode: 0o400, flag: 'wx' })
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

// The chain of trust signing key, loaded once at start-up as each generic-worker build does.
//
// multiuser: ChainOfTrustFeature is always initialised (multiuser_linux.go:24), whatever
// enableChainOfTrust says: a key that cannot be read or is not base64 stops the worker with
// exit 82 (chain_of_trust_feature.go:84-91, multiuser.go:384-392); a key of the wrong length
// makes NewKeyFromSeed panic, exit 69 (main.go:409-414); the file is then made the worker
// user's, mode 0600 (fileutil/fileutil_posix.go:15-17), a failure also exit 69.
//
// insecure: generic-worker's insecure build has no chain of trust at all
// (chain_of_trust_feature.go:1 is `//go:build multiuser`; insecure_linux.go:5-18) and never
// reads the key, so a pool may name a key that does not exist. megalodon offers the feature on
// this engine only for docker-worker payloads (docker-worker signed on any host); a key that
// does not load is logged and the feature is not offered, and the worker still starts.

import { chmod, chown } from 'node:fs/promises'
import { InternalError, SigningKeyMissing } from '../contract/errors.js'
import type { WorkerConfig } from '../config/config.js'
import { readSigningKey, SigningKeyUnreadable, type SigningKey } from '../lib/ed25519.js'
import type { Logger } from '../lib/logger.js'

/** The key to offer chain of trust with, or undefined when the feature is not offered. */
export async function loadSigningKey(config: WorkerConfig, logger: Logger): Promise<SigningKey | undefined> {
  const file = config.ed25519SigningKeyLocation
  if (config.engine === 'multiuser') {
    const key = await readOrThrow(file)
    try {
      await chown(file, process.getuid!(), process.getgid!())
      await chmod(file, 0o600)
    } catch (err) {
      throw new InternalError(`cannot secure the ed25519 signing key ${file}: ${(err as Error).message}`)
    }
    return config.enableChainOfTrust ? key : undefined
  }
  if (!config.enableChainOfTrust || !file) return undefined
  try {
    return await readSigningKey(file)
  } catch (err) {
    logger.warn({ err }, 'the ed25519 signing key does not load: chain of trust is not offered (the insecure engine does not need the key)')
    return undefined
  }
}

async function readOrThrow(file: string): Promise<SigningKey> {
  try {
    return await readSigningKey(file)
  } catch (err) {
    if (err instanceof SigningKeyUnreadable) throw new SigningKeyMissing((err as Error).message)
    throw new InternalError((err as Error).message)
  }
}

// The chain of trust signing key: generic-worker's file format (base64 of the 32-byte seed),
// `new-ed25519-keypair`, and what each engine does at start-up with a key that does not load.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SigningKeyMissing, InternalError } from '../../src/contract/errors.js'
import { buildConfig } from '../../src/config/config.js'
import { generateKeyPair, signDetached, signingKeyFromBase64, SigningKeyMalformed, SigningKeyUnreadable, verifyDetached } from '../../src/lib/ed25519.js'
import { silentLogger } from '../../src/lib/logger.js'
import { cliEntry } from '../../src/lib/paths.js'
import { exitCodeFor } from '../../src/worker/exit-codes.js'
import { loadSigningKey } from '../../src/worker/signing-key.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { readUpstreamSource } from '../helpers/upstream.js'
import { spawnWorker } from '../helpers/worker.js'

// RFC 8032, section 7.1, test 2: a seed, its public key, a one-byte message and its signature.
const RFC8032 = {
  seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
  message: '72',
  signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
}
const GW_TESTDATA = 'taskcluster-head/workers/generic-worker/testdata'
const DW_FIXTURES = 'docker-worker-final/workers/docker-worker/test/fixtures'
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'megalodon-key-'))

describe('ed25519 key files', () => {
  it('loads upstream generic-worker’s testdata/ed25519_private_key (base64 of the seed, ed25519_multiuser.go:12-22) and derives its testdata public key', () => {
    const key = signingKeyFromBase64(readUpstreamSource(`${GW_TESTDATA}/ed25519_private_key`).toString())
    assert.equal(key.publicKeyBase64, readUpstreamSource(`${GW_TESTDATA}/ed25519_public_key`).toString().trim())
  })

  it('signs with a seed file as RFC 8032 says', () => {
    const key = signingKeyFromBase64(Buffer.from(RFC8032.seed, 'hex').toString('base64'))
    assert.equal(Buffer.from(key.publicKeyBase64, 'base64').toString('hex'), RFC8032.pub)
    const sig = signDetached(key, Buffer.from(RFC8032.message, 'hex'))
    assert.equal(sig.toString('hex'), RFC8032.signature)
    assert.ok(verifyDetached(key.publicKeyBase64, Buffer.from(RFC8032.message, 'hex'), sig))
    assert.ok(!verifyDetached(key.publicKeyBase64, Buffer.from('73', 'hex'), sig))
  })

  it('still loads 64-byte seed-and-public-key files (docker-worker’s test/fixtures key, and keys megalodon wrote before)', () => {
    const dw = signingKeyFromBase64(readUpstreamSource(`${DW_FIXTURES}/ed25519_private_key`).toString())
    assert.equal(dw.publicKeyBase64, readUpstreamSource(`${DW_FIXTURES}/ed25519_public_key`).toString().trim())
    const old = signingKeyFromBase64(`${Buffer.from(RFC8032.seed + RFC8032.pub, 'hex').toString('base64')}\n`)
    assert.equal(Buffer.from(old.publicKeyBase64, 'base64').toString('hex'), RFC8032.pub)
    const mixed = Buffer.concat([Buffer.from(RFC8032.seed, 'hex'), Buffer.alloc(32, 1)])
    assert.throws(() => signingKeyFromBase64(mixed.toString('base64')), SigningKeyMalformed)
  })

  it('decodes as Go’s base64.StdEncoding: \\r\\n skipped, anything else not base64; other lengths malformed', () => {
    const seed = Buffer.from(RFC8032.seed, 'hex').toString('base64')
    assert.ok(signingKeyFromBase64(`${seed.slice(0, 10)}\r\n${seed.slice(10)}\n`))
    assert.throws(() => signingKeyFromBase64(`${seed} `), SigningKeyUnreadable)
    assert.throws(() => signingKeyFromBase64(seed.replace(/=$/, '')), SigningKeyUnreadable)
    // NewKeyFromSeed panics on any length but 32 (golang.org/x/crypto/ed25519)
    assert.throws(() => signingKeyFromBase64(Buffer.alloc(31).toString('base64')), SigningKeyMalformed)
  })
})

describe('megalodon new-ed25519-keypair (ed25519.go:11-43, main.go:231-233)', () => {
  const keypair = (file: string) => spawnSync(process.execPath, [cliEntry, 'new-ed25519-keypair', '--file', file], { encoding: 'utf8' })

  it('writes the base64 of the 32-byte seed with no newline and prints the public key with no newline', () => {
    const file = path.join(tmp(), 'signing.key')
    const r = keypair(file)
    assert.equal(r.status, 0, r.stderr)
    const text = readFileSync(file, 'utf8')
    assert.match(text, /^[A-Za-z0-9+/]{43}=$/)
    assert.equal(Buffer.from(text, 'base64').length, 32)
    assert.equal(r.stdout, signingKeyFromBase64(text).publicKeyBase64)
    assert.equal(statSync(file).mode & 0o077, 0, 'a new key file is its owner’s only')
  })

  it('overwrites an existing file, as os.Create does; exit 75 when the file cannot be created', () => {
    const file = path.join(tmp(), 'signing.key')
    writeFileSync(file, 'old contents that are longer than any key, to see the file truncated..........')
    const r = keypair(file)
    assert.equal(r.status, 0, r.stderr)
    assert.equal(signingKeyFromBase64(readFileSync(file, 'utf8')).publicKeyBase64, r.stdout)
    const bad = keypair(path.join(tmp(), 'no-such-dir', 'key'))
    assert.equal(bad.status, 75)
    assert.equal(bad.stdout, '')
  })
})

describe('the signing key at start-up', () => {
  const asRoot = process.getuid?.() === 0
  const base = { rootURL: 'http://localhost:1', workerId: 'w', workerType: 't' }

  it('multiuser: a missing key is exit 82 even with enableChainOfTrust false; a wrong-length key 69 (multiuser.go:384-392, main.go:409-414)', async function () {
    if (!asRoot) this.skip()
    const missing = buildConfig([{ ...base, engine: 'multiuser', enableChainOfTrust: false, ed25519SigningKeyLocation: '/nonexistent/key' }])
    const err = await loadSigningKey(missing, silentLogger()).catch((e: unknown) => e)
    assert.ok(err instanceof SigningKeyMissing)
    assert.match(err.message, /^Missing ED25519 Private Key: .*\/nonexistent\/key/)
    assert.equal(exitCodeFor(err), 82)
    const short = path.join(tmp(), 'key')
    writeFileSync(short, Buffer.alloc(16).toString('base64'))
    const err2 = await loadSigningKey({ ...missing, ed25519SigningKeyLocation: short }, silentLogger()).catch((e: unknown) => e)
    assert.ok(err2 instanceof InternalError)
    assert.equal(exitCodeFor(err2), 69)
  })

  it('multiuser: the key file is made the worker user’s, mode 0600 (fileutil_posix.go:15-17); offered only with enableChainOfTrust', async function () {
    if (!asRoot) this.skip()
    const file = path.join(tmp(), 'key')
    writeFileSync(file, generateKeyPair().privateKeyBase64, { mode: 0o644 })
    const config = buildConfig([{ ...base, engine: 'multiuser', ed25519SigningKeyLocation: file }])
    assert.ok(await loadSigningKey(config, silentLogger()))
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.equal(await loadSigningKey({ ...config, enableChainOfTrust: false }, silentLogger()), undefined)
  })

  it('insecure: generic-worker’s insecure build never reads the key (chain_of_trust_feature.go:1 `//go:build multiuser`): a missing one is not offered, never fatal', async () => {
    const config = buildConfig([{ ...base, engine: 'insecure', ed25519SigningKeyLocation: '/nonexistent/key' }])
    assert.equal(await loadSigningKey(config, silentLogger()), undefined)
    const file = path.join(tmp(), 'key')
    writeFileSync(file, generateKeyPair().privateKeyBase64)
    assert.ok(await loadSigningKey({ ...config, ed25519SigningKeyLocation: file }, silentLogger()))
  })

  it('`megalodon run` on the multiuser engine with a missing key exits 82', async function () {
    if (!asRoot) this.skip()
    const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    try {
      const { exited, stderr } = await spawnWorker(fake, { engine: 'multiuser', ed25519SigningKeyLocation: '/nonexistent/key' })
      assert.equal(await exited, 82)
      assert.match(stderr(), /Missing ED25519 Private Key: .*\/nonexistent\/key/)
    } finally {
      await fake.stop()
    }
  })
})

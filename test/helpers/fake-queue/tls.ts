// A self-signed certificate for 127.0.0.1, made at test time with openssl, for the fake's HTTPS
// listener. A worker trusts it through NODE_EXTRA_CA_CERTS=<certFile>.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface TestCertificate {
  cert: string
  key: string
  /** The PEM file, for NODE_EXTRA_CA_CERTS. */
  certFile: string
}

export function selfSignedCertificate(): TestCertificate {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fake-queue-tls-'))
  const certFile = path.join(dir, 'cert.pem')
  const keyFile = path.join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' })
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile }
}

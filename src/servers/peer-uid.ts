// Which OS user holds the other end of a loopback TCP connection: the client's socket appears
// in /proc/net/tcp (tcp6 for IPv4-mapped addresses) with its local address and its owner's uid.
// The way upstream's taskcluster-proxy admits only the task user (tools/taskcluster-proxy/
// connectionverifier_linux.go, lookupUIDFromProcNet).

import { readFile } from 'node:fs/promises'
import { isIPv4 } from 'node:net'

/** /proc/net/tcp's form of an IPv4 address and port: the address as a little-endian 32-bit word. */
function hex4(ip: string, port: number): string {
  const b = ip.split('.').map(Number)
  return `${[b[3], b[2], b[1], b[0]].map((x) => x!.toString(16).padStart(2, '0')).join('')}:${port.toString(16).padStart(4, '0')}`.toUpperCase()
}

/** /proc/net/tcp6's form of ::ffff:a.b.c.d: four little-endian 32-bit words. */
function hex6Mapped(ip: string, port: number): string {
  return `0000000000000000FFFF0000${hex4(ip, port).slice(0, 8)}:${port.toString(16).padStart(4, '0')}`.toUpperCase()
}

/** The uid owning the client socket at address:port on this host, or undefined when none is found (another network namespace). */
export async function peerUid(address: string, port: number): Promise<number | undefined> {
  const ip = address.replace(/^::ffff:/, '')
  if (!isIPv4(ip)) return undefined
  for (const [file, key] of [['/proc/net/tcp', hex4(ip, port)], ['/proc/net/tcp6', hex6Mapped(ip, port)]] as const) {
    const text = await readFile(file, 'utf8').catch(() => '')
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      if (fields.length >= 8 && fields[1]!.toUpperCase() === key) return Number(fields[7])
    }
  }
  return undefined
}

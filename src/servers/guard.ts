// Every server of the worker faces people it does not trust (task code on loopback; the network
// when publicIP is set). No connection may take the worker down: what Node's http parser
// refuses is answered 400 here, a socket error ends that one connection, and a request target
// that is no URL is refused instead of throwing inside a listener.

import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'

/** Answer parser errors with 400 and confine socket errors to their connection. */
export function guardServer(server: Server): Server {
  server.on('clientError', (_err, socket: Duplex) => refuse(socket, 400, 'Bad Request'))
  server.on('connection', (socket) => socket.on('error', () => socket.destroy()))
  return server
}

/** The path and query of a request target, or undefined when it is not one a URL parser accepts. */
export function requestUrl(target: string | undefined): URL | undefined {
  if (!URL.canParse(target ?? '/', 'http://x')) return undefined
  return new URL(target ?? '/', 'http://x')
}

/** End a raw socket (an upgrade, a bad request) with a bodyless HTTP status. */
export function refuse(socket: Duplex, status: number, text: string): void {
  if (!socket.writable) return void socket.destroy()
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy())
}

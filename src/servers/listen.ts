// Listening on a port, once for every server of the worker: the live log, the interactive
// websocket, a task's taskcluster-proxy.

import type { Server } from 'node:net'
import type { AddressInfo } from 'node:net'

/** Listens on host:port (0: any free port); resolves with the port, rejects when it is taken. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/** Listens on the wanted port or, when another worker on the host holds it, on any free port. */
export async function listenOrAnyPort(server: Server, host: string, port: number, onBusy: (err: unknown) => void = () => undefined): Promise<number> {
  try {
    return await listen(server, host, port)
  } catch (err) {
    onBusy(err)
    return listen(server, host, 0)
  }
}

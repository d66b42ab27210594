// hawk ships no types; this declares what megalodon (proxy signing) and the fake Queue use.
declare module 'hawk' {
  import type { IncomingMessage } from 'node:http'
  interface HawkCredentials {
    id: string
    key: string
    algorithm: 'sha256'
  }
  const Hawk: {
    client: {
      header(uri: string, method: string, options: { credentials: HawkCredentials; ext?: string }): { header: string }
      getBewit(uri: string, options: { credentials: HawkCredentials; ttlSec: number; ext?: string }): string
    }
    server: {
      authenticate(req: IncomingMessage, credentialsFunc: (id: string) => unknown, options?: Record<string, unknown>): Promise<unknown>
      authenticateBewit(req: IncomingMessage, credentialsFunc: (id: string) => unknown, options?: Record<string, unknown>): Promise<unknown>
    }
  }
  export default Hawk
}

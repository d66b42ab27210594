// hawk ships no types; the fake Queue uses only its server-side authenticate.
declare module 'hawk' {
  import type { IncomingMessage } from 'node:http'
  const Hawk: {
    server: {
      authenticate(req: IncomingMessage, credentialsFunc: (id: string) => unknown, options?: Record<string, unknown>): Promise<unknown>
    }
  }
  export default Hawk
}

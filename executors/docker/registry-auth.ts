// Which of the worker's registry credentials a docker-worker image name pulls with, and the scope
// a task needs to use them (docker-worker src/docker/docker_image.js:54-72,163-205). An image
// whose repository has 2 or 3 `/`-separated parts "can authenticate"; a 2-part name is on
// dockerConfig.defaultRegistry. The `<host>/<user>` key wins over a `<host>` (or `<host>/`) key.
// With credentials found the task must hold `docker-worker:image:<repository>:<tag>`; an image
// without configured credentials needs no scope.

import { scopeSatisfied } from '../../src/lib/scopes.js'
import type { RegistryCredentials } from './engine.js'

/** docker-worker's default for dockerConfig.defaultRegistry (config.yml:43). */
export const DEFAULT_REGISTRY = 'registry.hub.docker.com'

/** docker-image-parser 1.x: the last `:` starts the tag unless a `/` follows it (a port). */
function parseImage(name: string): { repository: string; tag?: string } {
  const colon = name.lastIndexOf(':')
  if (colon < 0) return { repository: name }
  const tag = name.slice(colon + 1)
  return tag.includes('/') ? { repository: name } : { repository: name.slice(0, colon), tag }
}

export interface RegistryAuth {
  /** The credentials and the registry they are for; absent: pulled anonymously. */
  credentials?: RegistryCredentials & { serveraddress: string }
  /** The scope the task lacks to use them (docker-worker refused the image). */
  missingScope?: string
}

export function registryAuth(image: string, scopes: readonly string[], registries: Record<string, RegistryCredentials>, defaultRegistry = DEFAULT_REGISTRY): RegistryAuth {
  const { repository, tag } = parseImage(image)
  const components = repository.split('/').filter((p) => p !== '')
  if (components.length !== 2 && components.length !== 3) return {}
  const parts = repository.split('/')
  if (parts.length === 2) parts.unshift(defaultRegistry)
  const [host, user] = parts as [string, string]
  let found: RegistryCredentials | undefined
  for (const key of Object.keys(registries)) {
    if (key === `${host}/${user}`) {
      found = registries[key]
      break
    }
    if (key === `${host}/` || key === host) found = registries[key]
  }
  if (!found) return {}
  const scope = `docker-worker:image:${repository}:${tag ?? 'latest'}`
  return { credentials: { ...found, serveraddress: host }, ...(scopeSatisfied(scopes, scope) ? {} : { missingScope: scope }) }
}

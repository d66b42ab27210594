// Docker's image reference grammar (github.com/distribution/reference, regexp.go / reference.go:
// what the engine itself accepts). A payload's image name is checked against it before any
// Engine API call: dockerode puts the name into the request path, and a name with `..` or an
// empty one made the engine answer a redirect that docker-modem followed off the unix socket
// (security-audit.md H6).

const alphaNumeric = '[a-z0-9]+'
const separator = '(?:[._]|__|[-]+)'
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])`
const domain = `${host}(?::[0-9]+)?`
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`
const tag = '[\\w][\\w.-]{0,127}'
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}'
const REFERENCE = new RegExp(`^(${name})(?::${tag})?(?:@${digest})?$`)

/** distribution/reference's NameTotalLengthMax. */
const NAME_MAX = 255

/** Why `ref` is not an image reference the engine accepts, or undefined when it is one. */
export function imageReferenceProblem(ref: string): string | undefined {
  const m = REFERENCE.exec(ref)
  if (!m) return `"${ref}" is not a valid docker image reference (invalid reference format)`
  if (m[1]!.length > NAME_MAX) return `the image name in "${ref.slice(0, 64)}…" is longer than ${NAME_MAX} characters`
  return undefined
}

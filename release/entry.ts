// The release's entry point (dist/src/cli/cli.js in the tarball; bin/megalodon runs it). It turns
// on Node's compile cache in the tarball's cache/ directory, made when the release was built,
// before the bundled command line is loaded: compiling the bundle is a large part of start-up.
// `portable` makes the cache's keys relative to its directory, so it holds wherever the tarball
// is unpacked. The cache is an optimisation only: a missing, stale or read-only one is ignored.
import module from 'node:module'
import { fileURLToPath } from 'node:url'

module.enableCompileCache({ directory: fileURLToPath(new URL('../../../cache', import.meta.url)), portable: true })
// A variable, so the type checker does not look for the bundle (it exists only in the release).
const bundle = './megalodon.js'
await import(bundle)

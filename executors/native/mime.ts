// Content types guessed the way generic-worker guesses them: its own small map first, then
// Go's mime.TypeByExtension — Go's built-in table, then the host's freedesktop globs2 file
// (which never overrides a built-in) or else the host's mime.types files (which do), with
// "; charset=utf-8" added to text types — then application/octet-stream.

import { readFileSync } from 'node:fs'

const genericWorkerTypes: Record<string, string> = {
  '.log': 'text/plain',
  '.jsonl': 'application/jsonl',
}

const goBuiltinTypes: Record<string, string> = {
  '.avif': 'image/avif',
  '.css': 'text/css; charset=utf-8',
  '.gif': 'image/gif',
  '.htm': 'text/html; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.mjs': 'text/javascript; charset=utf-8',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.webp': 'image/webp',
  '.xml': 'text/xml; charset=utf-8',
}

const globsFiles = ['/usr/local/share/mime/globs2', '/usr/share/mime/globs2']
const mimeTypesFiles = ['/etc/mime.types', '/etc/apache2/mime.types', '/etc/apache/mime.types', '/etc/httpd/conf/mime.types']

function withCharset(type: string): string {
  return type.startsWith('text/') && !/;\s*charset=/i.test(type) ? `${type}; charset=utf-8` : type
}

function readOr(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** Load the host tables the way Go's mime package does on Unix. */
export function loadHostTypes(files = { globs: globsFiles, mimeTypes: mimeTypesFiles }): Map<string, string> {
  const table = new Map(Object.entries(goBuiltinTypes))
  for (const file of files.globs) {
    const text = readOr(file)
    if (text === undefined) continue
    for (const line of text.split('\n')) {
      const [weight, type, glob] = line.split(':')
      if (!weight || weight.startsWith('#') || !type || !glob || glob.length < 3 || !glob.startsWith('*.')) continue
      const ext = glob.slice(1)
      if (/[?*[]/.test(ext) || table.has(ext)) continue // file is in weight order: first one wins
      table.set(ext, withCharset(type))
    }
    return table // a globs2 file was found: Go reads no mime.types then
  }
  for (const file of files.mimeTypes) {
    const text = readOr(file)
    if (text === undefined) continue
    for (const line of text.split('\n')) {
      const fields = line.trim().split(/\s+/)
      if (fields.length <= 1 || fields[0]!.startsWith('#')) continue
      for (const ext of fields.slice(1)) {
        if (ext.startsWith('#')) break
        table.set(`.${ext}`, withCharset(fields[0]!))
      }
    }
  }
  return table
}

let hostTypes: Map<string, string> | undefined

/** Go's filepath.Ext: from the last dot of the last element (".bashrc" is an extension). */
export function goExt(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  return dot < 0 ? '' : base.slice(dot)
}

// artifact_feature.go:323-336: the custom map by the lower-cased extension, then Go's
// mime.TypeByExtension (the exact extension, then lower-cased), then octet-stream
export function contentTypeFor(file: string): string {
  const ext = goExt(file)
  const custom = genericWorkerTypes[ext.toLowerCase()]
  if (custom) return custom
  hostTypes ??= loadHostTypes()
  return hostTypes.get(ext) ?? hostTypes.get(ext.toLowerCase()) ?? 'application/octet-stream'
}

/** Extensions generic-worker uploads with `identity` encoding (already compressed). */
const alreadyCompressed = new Set(
  '7z br aab apk bz2 deb dmg flv gif gz jar jpeg jpg lz lz4 mz npz pkg png swf sz tbz tgz wasm webp whl woff woff2 xpi xz zip zst zz'.split(' '),
)

/** artifact_feature.go:377: the exact extension (`.ZIP` is gzipped). */
export function contentEncodingFor(file: string): 'gzip' | 'identity' {
  return alreadyCompressed.has(goExt(file).slice(1)) ? 'identity' : 'gzip'
}

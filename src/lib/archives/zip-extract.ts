// zip mount content through yauzl: names checked, links kept inside the target, files opened
// with O_NOFOLLOW, entries and bytes counted.

import { constants } from 'node:fs'
import { open, symlink } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import yauzl from 'yauzl'
import { Budget, inside, realDirectories, UnpackError } from './unpack-common.js'

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(file, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip))))
}

export async function extractZip(source: string, root: string, budget: Budget): Promise<void> {
  let zip: yauzl.ZipFile
  try {
    zip = await openZip(source)
  } catch (err) {
    throw new UnpackError(`cannot unarchive zip: ${(err as Error).message}`)
  }
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (err: Error) => reject(new UnpackError(`cannot unarchive zip: ${err.message}`)))
      zip.on('end', resolve)
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          const target = path.resolve(root, entry.fileName)
          if (!inside(root, target)) throw new UnpackError(`unsafe archive: entry ${entry.fileName} would be written outside the target directory`)
          budget.entry()
          budget.add(entry.uncompressedSize)
          const mode = (entry.externalFileAttributes >>> 16) & 0o170000
          if (entry.fileName.endsWith('/')) {
            await realDirectories(root, target, entry.fileName)
          } else {
            await realDirectories(root, path.dirname(target), entry.fileName)
            const stream = await new Promise<Readable>((res, rej) => zip.openReadStream(entry, (err, s) => (err ? rej(err) : res(s))))
            if (mode === 0o120000) {
              // a symbolic link: its content is the target
              const chunks: Buffer[] = []
              for await (const c of stream) chunks.push(c as Buffer)
              const link = Buffer.concat(chunks).toString('utf8')
              if (!inside(root, path.resolve(path.dirname(target), link))) throw new UnpackError(`unsafe archive: symbolic link ${entry.fileName} -> ${link} points outside the target directory`)
              await symlink(link, target)
            } else {
              // O_NOFOLLOW: an entry of the same name made a link there earlier
              const out = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644)
              await pipeline(stream, out.createWriteStream())
            }
          }
          zip.readEntry()
        })().catch(reject)
      })
      zip.readEntry()
    })
  } catch (err) {
    if (err instanceof UnpackError) throw err
    throw new UnpackError(`cannot unarchive zip: ${(err as Error).message}`)
  } finally {
    zip.close()
  }
}

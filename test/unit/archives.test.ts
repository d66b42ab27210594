// Mount content formats: every compression and archive format generic-worker accepts round trips
// through archives made at test time with the real tools; crafted archives that try to write
// outside the target directory are refused and write nothing there.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { deflateSync } from 'node:zlib'
import { archiveFormats, compressionFormats, decompressFile, extractArchive, UnpackError, type ArchiveFormat } from '../../src/lib/archives/index.js'
import { encodeStream } from '../helpers/minlz.js'
import { readUpstreamYaml } from '../helpers/upstream.js'

const sh = (cmd: string, cwd?: string) => execFileSync('sh', ['-c', cmd], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
const has = (command: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** How each format is made here, with the real tool (or library, for zz). */
const compressWith: Record<string, (input: string, output: string) => void> = {
  gz: (i, o) => sh(`gzip -c '${i}' > '${o}'`),
  bz2: (i, o) => sh(`bzip2 -c '${i}' > '${o}'`),
  xz: (i, o) => sh(`xz -c '${i}' > '${o}'`),
  zst: (i, o) => sh(`zstd -q -c '${i}' > '${o}'`),
  lz4: (i, o) => sh(`lz4 -q -c '${i}' > '${o}'`),
  lz: (i, o) => sh(`lzip -c '${i}' > '${o}'`),
  br: (i, o) => sh(`brotli -c '${i}' > '${o}'`),
  zz: (i, o) => writeFileSync(o, deflateSync(readFileSync(i))),
  // snappy's framing format: blocks by python-snappy (Debian's), framed here with its own
  // CRC-32C (python-snappy's stream writer is broken in bookworm); a stored chunk and padding too
  sz: (i, o) =>
    execFileSync('/usr/bin/python3', ['-c', SNAPPY_FRAMER, i, o], { stdio: ['ignore', 'pipe', 'pipe'] }),
  // MinLZ has no tool outside Go: the tests' own encoder (written from the spec) makes the stream
  mz: (i, o) => writeFileSync(o, encodeStream(readFileSync(i))),
}
const SNAPPY_FRAMER = `
import snappy, struct, sys
def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82f63b78 if crc & 1 else crc >> 1
    return crc ^ 0xffffffff
def masked(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xffffffff) + 0xa282ead8) & 0xffffffff
def chunk(t, body):
    return bytes([t]) + struct.pack('<I', len(body))[:3] + body
data = open(sys.argv[1], 'rb').read()
out = chunk(0xff, b'sNaPpY') + chunk(0xfe, b'padding')
for n, i in enumerate(range(0, len(data), 65536)):
    piece = data[i:i + 65536]
    if n == 1:
        out += chunk(0x01, struct.pack('<I', masked(piece)) + piece)
    else:
        out += chunk(0x00, struct.pack('<I', masked(piece)) + snappy.compress(piece))
open(sys.argv[2], 'wb').write(out)
`
/**
 * A RAR4 archive of stored (uncompressed) entries, written by the layout of RAR's technote:
 * no free rar writer exists, so the test writes one; 7-Zip, the real reader, unpacks it.
 */
const RAR_WRITER = `
import struct, sys, zlib, json
def block(htype, flags, body):
    hdr = struct.pack('<BHH', htype, flags, 7 + len(body)) + body
    return struct.pack('<H', zlib.crc32(hdr) & 0xffff) + hdr
def entry(name, data, directory):
    nb = name.encode()
    mode = 0o40755 if directory else 0o100644
    body = struct.pack('<IIBIIBBHI', len(data), len(data), 3, zlib.crc32(data), 0x5A8E0000, 20, 0x30, len(nb), mode) + nb
    return block(0x74, 0x8000 | (0x00e0 if directory else 0), body) + data
out = b'Rar!\\x1a\\x07\\x00' + block(0x73, 0, bytes(6))
for name, path, directory in json.loads(sys.argv[2]):
    out += entry(name, b'' if directory else open(path, 'rb').read(), directory)
out += block(0x7b, 0x4000, b'')
open(sys.argv[1], 'wb').write(out)
`
describe('mount content formats', function () {
  this.timeout(60_000)
  let work: string
  let tree: string
  const big = randomBytes(200_000)
  before(function () {
    const snappyPython = () => {
      try {
        execFileSync('/usr/bin/python3', ['-c', 'import snappy'], { stdio: 'ignore' })
        return true
      } catch {
        return false
      }
    }
    if (!snappyPython()) {
      if (process.env.CI) assert.fail('python3-snappy is missing: .ci/run installs it')
      this.skip()
    }
    for (const tool of ['gzip', 'bzip2', 'xz', 'zstd', 'lz4', 'lzip', 'brotli', 'zip', '7z', 'tar']) {
      if (!has(tool)) {
        if (process.env.CI) assert.fail(`${tool} is missing: .ci/run installs it`)
        this.skip()
      }
    }
    work = mkdtempSync(path.join(os.tmpdir(), 'megalodon-archives-'))
    tree = path.join(work, 'tree')
    mkdirSync(path.join(tree, 'sub', 'deeper'), { recursive: true })
    writeFileSync(path.join(tree, 'a.txt'), 'alpha\n')
    writeFileSync(path.join(tree, 'sub', 'b.bin'), big)
    writeFileSync(path.join(tree, 'sub', 'deeper', 'c.txt'), 'gamma\n')
    symlinkSync('sub/b.bin', path.join(tree, 'link'))
  })

  function assertTree(dir: string, withLink = true) {
    assert.equal(readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'alpha\n')
    assert.ok(readFileSync(path.join(dir, 'sub', 'b.bin')).equals(big))
    assert.equal(readFileSync(path.join(dir, 'sub', 'deeper', 'c.txt'), 'utf8'), 'gamma\n')
    if (withLink) {
      assert.ok(lstatSync(path.join(dir, 'link')).isSymbolicLink())
      assert.equal(readlinkSync(path.join(dir, 'link')), 'sub/b.bin')
    }
  }

  it('decompresses a file in every supported compression format', async () => {
    const input = path.join(work, 'plain.bin')
    writeFileSync(input, big)
    for (const format of compressionFormats) {
      const packed = path.join(work, `plain.bin.${format}`)
      compressWith[format]!(input, packed)
      const out = path.join(work, `out-${format}.bin`)
      await decompressFile(packed, out, format)
      assert.ok(readFileSync(out).equals(big), `${format} round trip`)
    }
  })

  it('unpacks every supported archive format, links included', async () => {
    const tarball = path.join(work, 'tree.tar')
    sh(`tar -cf '${tarball}' -C '${tree}' .`)
    const made: Partial<Record<ArchiveFormat, string>> = { tar: tarball }
    for (const c of compressionFormats) {
      const file = path.join(work, `tree.tar.${c}`)
      compressWith[c]!(tarball, file)
      made[`tar.${c}` as ArchiveFormat] = file
    }
    made.zip = path.join(work, 'tree.zip')
    sh(`zip -q -r -y '${made.zip}' .`, tree)
    made['7z'] = path.join(work, 'tree.7z')
    sh(`7z a -snl '${made['7z']}' . > /dev/null`, tree)
    made.rar = path.join(work, 'tree.rar')
    const rarEntries = [['sub', '', true], ['sub/deeper', '', true], ['a.txt', path.join(tree, 'a.txt'), false], ['sub/b.bin', path.join(tree, 'sub', 'b.bin'), false], ['sub/deeper/c.txt', path.join(tree, 'sub', 'deeper', 'c.txt'), false]]
    execFileSync('python3', ['-c', RAR_WRITER, made.rar, JSON.stringify(rarEntries)])
    for (const format of archiveFormats) {
      const out = path.join(work, `unpacked-${format}`)
      await extractArchive(made[format]!, out, format)
      assertTree(out, format !== 'rar') // the rar writer here stores no links
    }
  })

  it('knows every format generic-worker’s payload schema allows, mz and tar.mz included', () => {
    // insecure_posix.yml: fileMount.format, readOnlyDirectory.format and writableDirectoryCache.format
    const defs = (readUpstreamYaml('generic-worker/insecure_posix.yml') as { definitions: Record<string, { properties: { format: { enum: string[] } } }> }).definitions
    assert.deepEqual([...compressionFormats].sort(), [...defs.fileMount!.properties.format.enum].sort())
    assert.deepEqual([...archiveFormats].sort(), [...defs.readOnlyDirectory!.properties.format.enum].sort())
    assert.deepEqual([...archiveFormats].sort(), [...defs.writableDirectoryCache!.properties.format.enum].sort())
  })

  it('fails clearly on corrupt content', async () => {
    const junk = path.join(work, 'junk')
    // random bytes behind a complete 8-byte snappy chunk that is not the stream identifier: with
    // wholly random bytes the first chunk's length could run past the end instead (a different error)
    writeFileSync(junk, Buffer.concat([Buffer.from([0x00, 0x08, 0x00, 0x00]), randomBytes(4092)]))
    await assert.rejects(decompressFile(junk, path.join(work, 'j1'), 'gz'), UnpackError)
    await assert.rejects(decompressFile(junk, path.join(work, 'j2'), 'xz'), /xz -dc failed/)
    await assert.rejects(extractArchive(junk, path.join(work, 'j3'), 'zip'), /cannot unarchive zip/)
    await assert.rejects(extractArchive(junk, path.join(work, 'j4'), 'tar.gz'), UnpackError)
    await assert.rejects(decompressFile(junk, path.join(work, 'j5'), 'sz'), /not a snappy-framed stream/)
    await assert.rejects(decompressFile(junk, path.join(work, 'j6'), 'mz'), UnpackError)
    await assert.rejects(extractArchive(junk, path.join(work, 'j7'), 'tar.mz'), UnpackError)
  })

  describe('crafted archives that reach outside the target', () => {
    /** Python's tarfile and zipfile write any entry name we ask for. */
    const py = (code: string) => execFileSync('python3', ['-c', code], { stdio: ['ignore', 'pipe', 'pipe'] })

    it('refuses tar entries with `..`, links pointing out, and keeps absolute paths inside', async () => {
      const cases: Array<[string, string]> = [
        ['dotdot', `t.addfile(ti('../escaped.txt'), io.BytesIO(b'x'))`],
        ['symlink', `i=tarfile.TarInfo('out'); i.type=tarfile.SYMTYPE; i.linkname='../../..'; t.addfile(i)`],
        ['hardlink', `i=tarfile.TarInfo('hard'); i.type=tarfile.LNKTYPE; i.linkname='../escaped.txt'; t.addfile(i)`],
        ['through-link', `i=tarfile.TarInfo('up'); i.type=tarfile.SYMTYPE; i.linkname='..'; t.addfile(i); t.addfile(ti('up/escaped.txt'), io.BytesIO(b'x'))`],
      ]
      for (const [name, body] of cases) {
        const file = path.join(work, `evil-${name}.tar`)
        py(`import tarfile, io\ndef ti(n):\n  i=tarfile.TarInfo(n); i.size=1; return i\nt=tarfile.open('${file}','w')\n${body.replace(/; /g, '\n')}\nt.close()`)
        const parent = mkdtempSync(path.join(work, `target-${name}-`))
        const target = path.join(parent, 'in')
        await assert.rejects(extractArchive(file, target, 'tar'), UnpackError, name)
        assert.equal(existsSync(path.join(parent, 'escaped.txt')), false, `${name}: nothing written outside`)
      }
      const abs = path.join(work, 'evil-abs.tar')
      const outside = path.join(work, `absolute-${Date.now()}.txt`)
      py(`import tarfile, io\nt=tarfile.open('${abs}','w')\ni=tarfile.TarInfo('${outside}'); i.size=1\nt.addfile(i, io.BytesIO(b'x'))\nt.close()`)
      const target = path.join(mkdtempSync(path.join(work, 'target-abs-')), 'in')
      await extractArchive(abs, target, 'tar').catch((err: unknown) => assert.ok(err instanceof UnpackError))
      assert.equal(existsSync(outside), false, 'an absolute entry never lands at its absolute path')
    })

    it('refuses zip entries with `..` and symbolic links pointing out', async () => {
      const dotdot = path.join(work, 'evil-dotdot.zip')
      py(`import zipfile\nz=zipfile.ZipFile('${dotdot}','w')\nz.writestr('../escaped.txt', 'x')\nz.close()`)
      const parent = mkdtempSync(path.join(work, 'target-zip-'))
      await assert.rejects(extractArchive(dotdot, path.join(parent, 'in'), 'zip'), UnpackError)
      assert.equal(existsSync(path.join(parent, 'escaped.txt')), false)

      const link = path.join(work, 'evil-link.zip')
      py(`import zipfile\nz=zipfile.ZipFile('${link}','w')\ni=zipfile.ZipInfo('out')\ni.external_attr=(0o120777)<<16\nz.writestr(i, '../../etc')\nz.close()`)
      await assert.rejects(extractArchive(link, path.join(parent, 'in2'), 'zip'), /points outside the target directory/)
    })

    it('keeps a rar entry named `..` inside the target', async () => {
      const src = path.join(work, 'payload.txt')
      writeFileSync(src, 'x')
      const file = path.join(work, 'evil.rar')
      execFileSync('python3', ['-c', RAR_WRITER, file, JSON.stringify([['../escaped.txt', src, false]])])
      const parent = mkdtempSync(path.join(work, 'target-rar-'))
      await extractArchive(file, path.join(parent, 'in'), 'rar').catch((err: unknown) => assert.ok(err instanceof UnpackError))
      assert.equal(existsSync(path.join(parent, 'escaped.txt')), false, 'nothing written outside')
    })

    it('refuses a 7z archive whose link points out', async () => {
      const src = mkdtempSync(path.join(work, 'evil7-'))
      symlinkSync('/etc', path.join(src, 'out'))
      const file = path.join(work, 'evil.7z')
      sh(`7z a -snl '${file}' . > /dev/null`, src)
      const parent = mkdtempSync(path.join(work, 'target-7z-'))
      await assert.rejects(extractArchive(file, path.join(parent, 'in'), '7z'), /points outside the target directory/)
      assert.equal(existsSync(path.join(parent, 'in', 'out')), false)
    })
  })
})

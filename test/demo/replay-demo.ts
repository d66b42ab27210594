// `node dist/test/demo/replay-demo.js`: the README's replay example, for real. Starts the fake
// Queue with one "production" task a legacy generic-worker ran (its out.txt differs from what the
// payload writes today), then runs `megalodon replay` against it and prints what it printed.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { cliEntry } from '../../src/lib/paths.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { ANONYMOUS_ROLE, genericTask, genericWorkerLog, productionArtifacts } from '../helpers/production.js'

const fake = await new FakeQueue().start()
fake.auth.anonymousScopes = ANONYMOUS_ROLE
const taskId = 'fXk1WQ2nRmK8bLhU5Qp3aw'
await fake.seedHistory({ taskId, task: { ...genericTask(), metadata: { name: 'build docs', description: 'd', owner: 'o@example.com', source: 'https://example.com' } }, state: 'completed', artifacts: productionArtifacts('hello, from last week\n', genericWorkerLog(0)) })
const command = ['replay', taskId, '--root-url', fake.rootUrl]
process.stdout.write(`$ megalodon ${command.join(' ')}\n`)
const result = await promisify(execFile)(process.execPath, [cliEntry, ...command]).catch((e: { stdout: string; code: number }) => e)
process.stdout.write(result.stdout)
process.stdout.write(`(exit ${'code' in result ? result.code : 0})\n`)
await fake.stop()

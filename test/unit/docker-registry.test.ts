// Which registry credentials a docker-worker image pulls with, and the scope that takes
// (docker-worker src/docker/docker_image.js:54-72,163-205; test/integration/registry_auth_test.js).
import assert from 'node:assert/strict'
import { createDockerExecutor } from '../../executors/docker/executor.js'
import { registryAuth } from '../../executors/docker/registry-auth.js'
import type { TaskExecutor } from '../../src/contract/executor.js'
import { FakeDockerEngine } from '../helpers/fake-docker-engine.js'
import { runDirect } from '../helpers/run-direct.js'

const CREDS = { username: 'u', password: 'p' }

describe('docker registry credentials and the docker-worker:image scope', () => {
  it('matches docker-worker getCredentials: host/user first, then host or host/; 2-part names on the default registry', () => {
    const registries = { 'registry.example.com': { username: 'host', password: 'h' }, 'registry.example.com/team': { username: 'team', password: 't' }, 'registry.hub.docker.com/': CREDS }
    assert.equal(registryAuth('registry.example.com/team/image:1', ['*'], registries).credentials?.username, 'team')
    assert.equal(registryAuth('registry.example.com/other/image:1', ['*'], registries).credentials?.username, 'host')
    assert.deepEqual(registryAuth('someone/image', ['*'], registries).credentials, { ...CREDS, serveraddress: 'registry.hub.docker.com' })
    // one part, or more than three: docker-worker never authenticated (canAuthenticate)
    assert.deepEqual(registryAuth('ubuntu:24.04', [], registries), {})
    assert.deepEqual(registryAuth('registry.example.com/a/b/c:1', [], registries), {})
    // a port is not a tag (docker-image-parser)
    assert.equal(registryAuth('127.0.0.1:5000/team/image', [], { '127.0.0.1:5000': CREDS }).missingScope, 'docker-worker:image:127.0.0.1:5000/team/image:latest')
  })

  it('asks docker-worker:image:<repository>:<tag> only when credentials apply; `*` scopes count (registry_auth_test.js "success - with star")', () => {
    const registries = { 'registry.example.com': CREDS }
    assert.equal(registryAuth('registry.example.com/team/image:1', [], registries).missingScope, 'docker-worker:image:registry.example.com/team/image:1')
    assert.equal(registryAuth('registry.example.com/team/image:1', ['docker-worker:image:registry.example.com/*'], registries).missingScope, undefined)
    assert.deepEqual(registryAuth('other.example.com/team/image:1', [], registries), {})
  })

  it('refuses the image before looking in the engine, as image_manager.js:77-84 did (registry_auth_test.js "failed scopes")', async () => {
    const image = 'registry.example.com/team/image:1'
    const engine = new FakeDockerEngine(() => ({ exitCode: 0 }))
    engine.images_.add(image)
    const executors = [createDockerExecutor({ engine }) as TaskExecutor]
    const config = { dockerRegistries: { 'registry.example.com': CREDS } }
    const refused = await runDirect(executors, { image, command: ['x'], maxRunTime: 60 }, { config })
    assert.deepEqual(refused.resolution, { state: 'failed' })
    assert.ok(refused.log.includes(`\n[taskcluster:error] Error: Not authorized to use {"name":"${image}","type":"docker-image"}.  Ensure that the task scopes are correctly defined in the task definition\n`), refused.log)
    const allowed = await runDirect(executors, { image, command: ['x'], maxRunTime: 60 }, { config, task: { scopes: [`docker-worker:image:${image}`] } })
    assert.deepEqual(allowed.resolution, { state: 'completed' })
  })
})

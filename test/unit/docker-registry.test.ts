// Which registry an image name refers to.
import assert from 'node:assert/strict'
import { registryOf } from '../../executors/docker/container.js'

describe('docker registries', () => {
  it('finds the registry of an image name, for its pull credentials', () => {
    assert.equal(registryOf('ubuntu:24.04'), 'docker.io')
    assert.equal(registryOf('taskcluster/livelog:v4'), 'docker.io')
    assert.equal(registryOf('127.0.0.1:5000/megalodon/busybox:latest'), '127.0.0.1:5000')
    assert.equal(registryOf('registry.example.com/team/image'), 'registry.example.com')
    assert.equal(registryOf('localhost/image'), 'localhost')
  })
})

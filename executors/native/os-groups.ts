// osGroups on the multiuser engine, as generic-worker's OS Groups feature does it on Linux
// (os_groups_multiuser.go, os_groups_multiuser_linux.go): the task user joins each group with
// `usermod -aG` once it exists, and leaves the groups it joined with `gpasswd -d` after the task.
// A group it cannot join is the payload's fault (malformed-payload, every such group named); a
// group it cannot leave is the worker's (internal-error). The commands pick the groups up
// because setpriv --init-groups reads them when each command starts.

import { readFile } from 'node:fs/promises'
import { InternalError, MalformedPayload } from '../../src/contract/errors.js'
import type { TaskLog } from '../../src/lib/task-log.js'
import { parseGroupFile } from './group-file.js'
import { runHostCommand } from './host-command.js'

/** A group as Go's user.LookupGroup returns it, printed with %v as that pointer prints. */
interface JoinedGroup {
  name: string
  gid: number
}
const goGroup = (g: JoinedGroup) => `&{${g.gid} ${g.name}}`

/** Adds `user` to `groups`; returns how to take it out of those it joined. */
export async function addTaskUserToGroups(user: string, groups: readonly string[], log: TaskLog): Promise<() => Promise<void>> {
  const joined: JoinedGroup[] = []
  const notJoined: string[] = []
  // usermod changes memberships, never a group's id: the file is read once
  const gids = new Map(parseGroupFile(await readFile('/etc/group', 'utf8').catch(() => '')).map((g) => [g.name, g.gid]))
  for (const group of groups) {
    const { error } = await runHostCommand('/usr/sbin/usermod', ['-aG', group, user])
    if (error) {
      notJoined.push(group)
      log.error(`[osGroups] Could not add task user to OS group ${group}: ${error}`)
      continue
    }
    const gid = gids.get(group)
    if (gid === undefined) {
      notJoined.push(group)
      log.error(`[osGroups] Could not look up group ID for OS group ${group}: group: unknown group ${group}`)
      continue
    }
    joined.push({ name: group, gid })
  }
  const leave = async () => {
    const notLeft: string[] = []
    for (const group of joined) {
      const { error } = await runHostCommand('/usr/bin/gpasswd', ['-d', user, group.name])
      if (error) {
        notLeft.push(group.name)
        log.error(`[osGroups] Could not remove task user from OS group ${goGroup(group)}: ${error}`)
      }
    }
    if (notLeft.length > 0) throw new InternalError(`could not remove task user from OS group(s) [${notLeft.join(' ')}]`)
  }
  if (notJoined.length > 0) {
    // the groups joined are left again: the task will not run
    await leave().catch(() => undefined)
    throw new MalformedPayload('the task user could not join its OS groups', [`could not add task user to OS group(s) [${notJoined.join(' ')}]`])
  }
  return leave
}

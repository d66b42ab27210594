// /etc/group, one `name:password:gid:member,member` line per group: read by the osGroups checks
// of both engines (the insecure engine's own groups, the multiuser engine's groups that exist).

export interface GroupEntry {
  name: string
  /** Absent on a line that has no third field. */
  gid?: number
  members: string[]
}

export function parseGroupFile(text: string): GroupEntry[] {
  return text.split('\n').map((line) => {
    const [name = '', , gid, members] = line.split(':')
    return { name, ...(gid === undefined ? {} : { gid: Number(gid) }), members: (members ?? '').split(',') }
  })
}

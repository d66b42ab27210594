// mime 2 (an alias of docker-worker's mime major, for its type table) ships no types.
declare module 'mime2' {
  const mime: { getType(path: string): string | null }
  export default mime
}

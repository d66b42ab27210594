// snappyjs ships no types: the two functions used.
declare module 'snappyjs' {
  const snappy: {
    uncompress(compressed: Uint8Array): Uint8Array
    compress(data: Uint8Array): Uint8Array
  }
  export default snappy
}

// Bytes received but not yet parsed, kept as the pieces they came in: a frame is copied out once,
// when it is complete, instead of the whole backlog being concatenated on every write.

export class ByteQueue {
  private pieces: Buffer[] = []
  private head = 0 // bytes of pieces[0] already taken
  length = 0

  push(piece: Buffer): void {
    if (piece.length === 0) return
    this.pieces.push(piece)
    this.length += piece.length
  }

  /** The first `n` bytes (n ≤ length), without taking them. */
  peek(n: number): Buffer {
    const first = this.pieces[0]
    if (first && first.length - this.head >= n) return first.subarray(this.head, this.head + n)
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    for (let i = 0; filled < n; i++) {
      const p = this.pieces[i]!
      const from = i === 0 ? this.head : 0
      const k = Math.min(n - filled, p.length - from)
      p.copy(out, filled, from, from + k)
      filled += k
    }
    return out
  }

  /** Take the first `n` bytes (n ≤ length). */
  take(n: number): Buffer {
    const out = this.peek(n)
    this.drop(n)
    return out
  }

  /** Throw away up to `n` bytes; returns how many were there to drop. */
  drop(n: number): number {
    let left = Math.min(n, this.length)
    const dropped = left
    while (left > 0) {
      const p = this.pieces[0]!
      const k = Math.min(left, p.length - this.head)
      this.head += k
      left -= k
      if (this.head === p.length) {
        this.pieces.shift()
        this.head = 0
      }
    }
    this.length -= dropped
    return dropped
  }
}

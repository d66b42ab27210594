// Undoing what an executor's prepare made. The stack is Node's AsyncDisposableStack: steps run
// in reverse order of registration and every step runs even when an earlier one failed; their
// errors come back folded into SuppressedErrors, which are unfolded here so each is reported.

/** Runs every undo step; returns their errors in the order the steps ran (the first one first). */
export async function unwind(stack: AsyncDisposableStack): Promise<unknown[]> {
  try {
    await stack.disposeAsync()
    return []
  } catch (err) {
    return unfold(err)
  }
}

/** A SuppressedError holds the later error in `error` and the earlier ones in `suppressed`. */
function unfold(err: unknown): unknown[] {
  if (err instanceof SuppressedError) return [...unfold(err.suppressed), ...unfold(err.error)]
  return [err]
}

// Running asynchronous steps a bounded number at a time (as Swift's StreamingPile), for bulk and SLO work.

/**
 * Run `step` on each item `next` gives (undefined when there are no more; `next` may be async, such as an async
 * generator's, whose calls queue up), at most `limit` at once (Swift's StreamingPile). The first failure, of `next`
 * or of a step, stops new starts and is thrown once the steps in flight have settled.
 */
export async function inFlight<T>(
  limit: number,
  next: () => T | undefined | Promise<T | undefined>,
  step: (item: T) => Promise<void>,
): Promise<void> {
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure) {
      try {
        const got = next();
        // A synchronous `next` is taken in the same turn.
        const item = got instanceof Promise ? await got : got;
        // Another worker may have failed while this one waited for its item.
        if (item === undefined || failure) return;
        await step(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failure) throw failure.error;
}

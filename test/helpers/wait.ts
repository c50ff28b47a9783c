// Bounded polls for state that changes in the background (casts, agents, conductors, timers): tests wait for it
// with these instead of asserting at once or sleeping. The bounds are generous because CI machines are loaded;
// they only decide how long a real failure takes to be reported.

/** How long a poll waits by default before it fails. */
export const WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `fn` (every `everyMs`) until it returns a truthy value, which is returned; fail naming `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T> | T,
  timeoutMs = WAIT_MS,
  everyMs = 10,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Run an assertion block until it passes (its result is returned); after `timeoutMs`, throw its last failure. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = WAIT_MS, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
    }
    await sleep(everyMs);
  }
}

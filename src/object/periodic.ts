// A background pass run on a timer, one at a time: the object service's reaper and container sync daemon.
import type { ObjectCore } from "./core.js";

/** A started periodic pass; stop() clears the timer and waits for a pass under way. */
export interface Periodic {
  stop(): Promise<void>;
}

/** Run `pass` every `intervalSeconds` (skipped while the last one runs); a failed pass is logged as `what`. */
export function runPeriodically(
  core: ObjectCore,
  intervalSeconds: number,
  what: string,
  pass: () => Promise<unknown>,
): Periodic {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = pass()
      .catch((e) => core.log.error({ err: e }, `${what} failed`))
      .finally(() => (running = null));
  }, intervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

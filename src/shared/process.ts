// Processes a service started and must see gone: liveness from /proc, and a bounded SIGTERM-then-SIGKILL stop.
import { readFileSync } from "node:fs";

/** Whether a pid is a live process (not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** SIGTERM `pid`, SIGKILL it after `graceMs`; resolves once it is gone, throws naming `what` if it never goes. */
export async function terminatePid(pid: number, what: string, graceMs = 5_000): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // gone
    }
  };
  signal("SIGTERM");
  const end = Date.now() + graceMs;
  while (pidAlive(pid)) {
    if (Date.now() > end) signal("SIGKILL");
    if (Date.now() > end + 10_000) throw new Error(`${what} ${pid} would not die`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

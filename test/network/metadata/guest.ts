// What a guest does to reach the metadata service, from a network namespace: curl, as cloud-init's tools would.
import { run } from "../../../src/network/drivers/linux/exec.js";

/** curl from a namespace: status and body (extra curl arguments before the URL). */
export async function curl(
  ns: string,
  url: string,
  args: string[] = [],
): Promise<{ status: number; body: string }> {
  const r = await run(["curl", "-s", "-m", "30", "-o", "-", "-w", "\n%{http_code}", ...args, url], {
    netns: ns,
    timeoutMs: 60_000,
  });
  const i = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
}

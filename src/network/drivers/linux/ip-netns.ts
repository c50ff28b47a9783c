// Network namespaces (`ip netns`): create with loopback up, delete (after killing what still runs inside, so
// nothing outlives it), list, and sysctls set inside one (`ip netns exec NS sysctl -w`, argv only).
import { pidAlive } from "../../../shared/process.js";
import { run } from "./exec.js";
import { deleteLink, listLinks } from "./ip.js";
import { safeNetns } from "./names.js";

/** Names of every named network namespace (`ip netns list`). */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run(["ip", "-json", "netns", "list"]);
  if (!stdout.trim()) return [];
  return (JSON.parse(stdout) as { name: string }[]).map((n) => n.name);
}

/** Whether a named namespace exists. */
export async function namespaceExists(name: string): Promise<boolean> {
  return (await listNamespaces()).includes(safeNetns(name));
}

/** Ensure a named namespace exists, with its loopback up. */
export async function ensureNamespace(name: string): Promise<void> {
  if (!(await namespaceExists(name))) {
    try {
      await run(["ip", "netns", "add", safeNetns(name)]);
    } catch (e) {
      if (!(await namespaceExists(name))) throw e; // else another caller raced us to it
    }
  }
  await run(["ip", "-n", safeNetns(name), "link", "set", "dev", "lo", "up"]);
}

/** Pids of the processes living in a namespace. */
export async function namespacePids(name: string): Promise<number[]> {
  const { stdout } = await run(["ip", "netns", "pids", safeNetns(name)]);
  return stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** Kill every process in a namespace (SIGKILL) and wait until they are gone. */
export async function killNamespacePids(name: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const pids = await namespacePids(name);
    const alive = pids.filter(pidAlive);
    if (alive.length === 0) return;
    for (const pid of alive) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (Date.now() > end) throw new Error(`processes ${alive.join(", ")} in namespace ${name} would not die`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Delete a namespace if it exists, killing what runs inside first (its veths and their peers go with it). */
export async function deleteNamespace(name: string): Promise<boolean> {
  if (!(await namespaceExists(name))) return false;
  await killNamespacePids(name);
  // Its veths first: a namespace's devices go asynchronously after `ip netns del` (later still when it has nft
  // tables), and their other ends (in a bridge, outside) must be gone when this returns.
  for (const l of await listLinks(name))
    if (l.linkinfo?.info_kind === "veth") await deleteLink(name, l.ifname);
  await run(["ip", "netns", "del", name]);
  return true;
}

/** Set sysctls inside a namespace (undefined: the current one), e.g. `net.ipv4.ip_forward` = `1`. */
export async function sysctl(
  netns: string | undefined,
  values: Readonly<Record<string, string>>,
): Promise<void> {
  const args = Object.entries(values).map(([k, v]) => {
    if (!/^[a-z0-9_.\-/]+$/i.test(k) || !/^[A-Za-z0-9 _.-]*$/.test(v))
      throw new Error(`bad sysctl ${k}=${v}`);
    return `${k}=${v}`;
  });
  if (args.length) await run(["sysctl", "-q", "-w", ...args], { netns });
}

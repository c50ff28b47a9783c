// The lifecycle of the in-namespace metadata proxies for the linux driver: one process per network, in the
// network's DHCP namespace (which holds 169.254.169.254/32), started detached so it outlives agent restarts and
// found again through its pid file (checked to be ours by its command line and its network namespace), as the
// driver's dnsmasq is. `ensure` adopts a running proxy (guests see no interruption) and starts one otherwise;
// `remove` stops it and deletes its files. The host-side agent (agent.ts) the proxies forward to can be started
// with them (`agent`) and is stopped by `close()`; the proxies themselves keep running.
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { KeyedLock } from "../../shared/keyed-lock.js";
import { findTool } from "../drivers/linux/exec.js";
import { pidAlive, terminatePid } from "../../shared/process.js";
import { safeId, safeNetns } from "../drivers/linux/names.js";
import { PLAIN_ID } from "./headers.js";
import { startMetadataAgent, type MetadataAgent, type MetadataAgentOptions } from "./agent.js";

/** The proxy process's script (compiled next to this module). */
export const NS_PROXY_SCRIPT = fileURLToPath(new URL("./ns-proxy.js", import.meta.url));

/** The agent's socket under a data-plane state directory (a directory of its own, traversable path). */
export const metadataSocketPath = (stateDir: string): string =>
  join(resolve(stateDir), "metadata", "agent.sock");

/** The unprivileged identity the proxies drop to after binding port 80. */
export interface ProxyUser {
  uid: number;
  gid: number;
}

/** `nobody` and its primary group from /etc/passwd (65534:65534 when it has no entry). */
export function nobodyUser(passwd = "/etc/passwd"): ProxyUser {
  try {
    for (const line of readFileSync(passwd, "utf8").split("\n")) {
      const [name, , uid, gid] = line.split(":");
      if (name === "nobody" && /^\d+$/.test(uid ?? "") && /^\d+$/.test(gid ?? ""))
        return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no passwd file: the conventional ids
  }
  return { uid: 65534, gid: 65534 };
}

/** What the proxies run with. */
export interface MetadataProxiesOptions {
  /** Directory for the proxies' pid and log files (`<stateDir>/metadata-proxy/<network>/`). */
  stateDir: string;
  /** The host-side agent's unix socket the proxies forward to. */
  socketPath: string;
  /** The node binary (default: this process's). */
  nodePath?: string;
  /** The proxy script (default: NS_PROXY_SCRIPT). */
  scriptPath?: string;
  log: Logger;
  /** Who the proxies run as after binding (default: nobodyUser() when root); null: as started. */
  user?: ProxyUser | null;
  /** Also start the host-side agent on `socketPath` (its socket given to the proxies' group); close() stops it. */
  agent?: Pick<MetadataAgentOptions, "lookup" | "target" | "maxBodyBytes">;
  /** How long a starting proxy may take to listen (default 30 s). */
  startTimeoutMs?: number;
}

/** The proxies of one host, as the linux driver drives them. */
export interface MetadataProxies {
  /** Make the network's proxy run in `netns` (idempotent: a running one is adopted, not restarted). */
  ensure(networkId: string, netns: string): Promise<void>;
  /** Stop the network's proxy and delete its files (nothing running is not an error). */
  remove(networkId: string): Promise<void>;
  /** The pid of the network's running proxy, or null. */
  pid(networkId: string): number | null;
  /** The networks that have proxy files on this host (for a resync to remove the stale ones). */
  networks(): string[];
  /** Stop the host-side agent if these proxies started it (the proxies keep running). */
  close(): Promise<void>;
}

/** A proxy's files. */
interface ProxyPaths {
  dir: string;
  pid: string;
  log: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `pid` lives in the named namespace (same nsfs inode as /run/netns/<name>). */
function inNamespace(pid: number, netns: string): boolean {
  try {
    const a = statSync(`/proc/${pid}/ns/net`);
    const b = statSync(join("/run/netns", netns));
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** Create the proxies of one host (the agent, when asked, starts listening at once). */
export function createMetadataProxies(o: MetadataProxiesOptions): MetadataProxies {
  const root = join(resolve(o.stateDir), "metadata-proxy");
  const nodePath = o.nodePath ?? process.execPath;
  const scriptPath = resolve(o.scriptPath ?? NS_PROXY_SCRIPT);
  const user = o.user === undefined ? (process.getuid?.() === 0 ? nobodyUser() : null) : o.user;
  const log = o.log.child({ component: "metadata-proxies" });
  const locks = new KeyedLock();
  let agent: Promise<MetadataAgent> | undefined;
  if (o.agent)
    agent = startMetadataAgent({
      ...o.agent,
      socketPath: o.socketPath,
      log: o.log,
      ...(user ? { proxyGid: user.gid } : {}),
    });
  // An agent that failed to start is reported by ensure(), not as an unhandled rejection.
  agent?.catch(() => undefined);

  const paths = (networkId: string): ProxyPaths => {
    const dir = join(root, safeId(networkId, "network id"));
    return { dir, pid: join(dir, "pid"), log: join(dir, "log") };
  };

  /** The live proxy behind a pid file (a recycled pid or another program is not ours). */
  const pidOf = (p: ProxyPaths): number | null => {
    let pid: number;
    try {
      pid = Number(readFileSync(p.pid, "utf8").trim());
    } catch {
      return null;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !pidAlive(pid)) return null;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const i = argv.indexOf("--pidfile");
      return argv.includes(scriptPath) && i > 0 && argv[i + 1] === p.pid ? pid : null;
    } catch {
      return null;
    }
  };

  const stop = (pid: number) => terminatePid(pid, "metadata proxy");

  const start = async (networkId: string, netns: string, p: ProxyPaths): Promise<number> => {
    mkdirSync(p.dir, { recursive: true, mode: 0o755 });
    rmSync(p.pid, { force: true });
    const argv = [
      "netns",
      "exec",
      netns,
      nodePath,
      scriptPath,
      "--network",
      networkId,
      "--socket",
      o.socketPath,
      "--pidfile",
      p.pid,
      ...(user ? ["--user", String(user.uid), "--group", String(user.gid)] : []),
    ];
    const out = openSync(p.log, "a", 0o644);
    let exited: number | null = null;
    try {
      const child = spawn(findTool("ip") ?? "ip", argv, { detached: true, stdio: ["ignore", out, out] });
      child.on("exit", (code) => (exited = code ?? -1));
      child.on("error", () => (exited = -1));
      child.unref();
    } finally {
      closeSync(out);
    }
    const end = Date.now() + (o.startTimeoutMs ?? 30_000);
    for (;;) {
      const pid = pidOf(p);
      if (pid !== null) return pid;
      if (exited !== null || Date.now() > end) {
        const tail = existsSync(p.log)
          ? readFileSync(p.log, "utf8").trim().split("\n").slice(-3).join("; ")
          : "";
        throw new Error(
          `the metadata proxy of network ${networkId} did not start${exited !== null ? ` (exit ${exited})` : ""}: ${tail}`,
        );
      }
      await sleep(20);
    }
  };

  return {
    async ensure(networkId, netns) {
      const p = paths(networkId);
      safeNetns(netns);
      await agent;
      await locks.run(networkId, async () => {
        const running = pidOf(p);
        if (running !== null && inNamespace(running, netns)) return;
        if (running !== null) await stop(running); // in another namespace: the network's namespace was remade
        const pid = await start(networkId, netns, p);
        log.info({ network: networkId, netns, pid }, "metadata proxy started");
      });
    },
    async remove(networkId) {
      const p = paths(networkId);
      await locks.run(networkId, async () => {
        const running = pidOf(p);
        if (running !== null) await stop(running);
        rmSync(p.dir, { recursive: true, force: true });
      });
    },
    pid: (networkId) => pidOf(paths(networkId)),
    networks: () => (existsSync(root) ? readdirSync(root).filter((n) => PLAIN_ID.test(n)) : []),
    async close() {
      const a = await agent?.catch(() => undefined);
      agent = undefined;
      await a?.close();
    },
  };
}

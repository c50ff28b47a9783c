// The in-namespace metadata proxy process, started by the agent (proxies.ts) as
//   ip netns exec <ns> node ns-proxy.js --network <id> --socket <path> [--pidfile <path>] [--user UID --group GID]
// It binds 169.254.169.254:80 while still root, drops to UID/GID (no supplementary groups) for the rest of its
// life, then writes its pid file, and serves until SIGTERM. Only node builtins and this directory's
// dependency-free modules are imported (static imports: all loaded before the privileges go).
import { closeSync, openSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { PLAIN_ID } from "./headers.js";
import { createNsProxyServer } from "./ns-proxy-server.js";

/** The address the proxy listens on (inside the namespace). */
const DEFAULT_ADDRESS = "169.254.169.254";

function fail(message: string): never {
  process.stderr.write(`metadata ns-proxy: ${message}\n`);
  process.exit(2);
}

const { values: a } = parseArgs({
  options: {
    network: { type: "string" },
    socket: { type: "string" },
    pidfile: { type: "string" },
    user: { type: "string" },
    group: { type: "string" },
    address: { type: "string", default: DEFAULT_ADDRESS },
    port: { type: "string", default: "80" },
  },
  strict: true,
});
if (!a.network || !PLAIN_ID.test(a.network)) fail("--network <id> is required");
if (!a.socket) fail("--socket <path> is required");
const id = (v: string | undefined, what: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v)) fail(`--${what} must be a numeric id`);
  return Number(v);
};
const uid = id(a.user, "user");
const gid = id(a.group, "group");
if ((uid === undefined) !== (gid === undefined)) fail("--user and --group go together");
const port = Number(a.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail("--port is not a port");

const server = createNsProxyServer({ networkId: a.network, socketPath: a.socket });
const listenFailed = (e: NodeJS.ErrnoException) =>
  fail(`cannot listen on ${a.address}:${port}: ${e.code ?? e.message}`);
server.once("error", listenFailed);
server.listen(port, a.address, () => {
  server.off("error", listenFailed);
  server.on("error", (e) => process.stderr.write(`metadata ns-proxy: ${e.message}\n`));
  // The pid file is opened while root (its directory is root's) and written once the privileges are gone: a pid in
  // it means the proxy listens and runs unprivileged.
  const pidFd = a.pidfile ? openSync(a.pidfile, "w", 0o644) : undefined;
  if (uid !== undefined && gid !== undefined) {
    // Groups first, then the group, then the user: after setuid nothing could be dropped any more.
    process.setgroups!([]);
    process.setgid!(gid);
    process.setuid!(uid);
  }
  if (pidFd !== undefined) {
    writeSync(pidFd, `${process.pid}\n`);
    closeSync(pidFd);
  }
  process.stderr.write(
    `metadata ns-proxy for network ${a.network} on ${a.address}:${port} as uid ${process.getuid?.()}, forwarding to ${a.socket}\n`,
  );
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

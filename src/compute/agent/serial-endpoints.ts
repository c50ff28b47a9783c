// The agent's serial console endpoints: the driver hands out a live attachment to a guest's serial port, which only
// exists in the agent's process; for the console proxy (in an API process) the agent serves it on a one-shot
// loopback TCP port, open for one connection within the console token's lifetime.
import { serveSerialConsole, type SerialConsoleServer } from "../drivers/qemu/serial-console.js";
import type { SerialConsole } from "../drivers/types.js";
import type { AgentDeps } from "./deps.js";

const open = new WeakMap<AgentDeps, Set<SerialConsoleServer>>();

/** Serve `live` for one proxy connection; the endpoint the proxy's token will name. */
export async function openSerialEndpoint(
  deps: AgentDeps,
  live: SerialConsole,
): Promise<{ host: string; port: number }> {
  let set = open.get(deps);
  if (!set) open.set(deps, (set = new Set()));
  const srv = await serveSerialConsole(live, {
    once: true,
    acceptTimeoutMs: deps.cfg.compute.consoles.tokenTtl * 1000,
  });
  set.add(srv);
  void srv.closed.then(() => set.delete(srv));
  return { host: srv.host, port: srv.port };
}

/** Close every serial console endpoint of this agent (when it stops). */
export async function closeSerialEndpoints(deps: AgentDeps): Promise<void> {
  const set = open.get(deps);
  if (set) await Promise.all([...set].map((s) => s.close()));
}

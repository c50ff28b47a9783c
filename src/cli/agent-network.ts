// `stratus agent network`: one host's network agent (Neutron's L2 agent) as its own process, and the same agent run
// by `stratus agent compute` beside its compute agent (as devstack runs neutron's agent beside nova-compute on each
// compute host). It joins a control plane that `stratus up --db URL --bus amqp://...` runs; `stratus up`'s own agent
// is the network node (DHCP, routers, the public network), this one carries the host's bridges, VXLAN tunnels to the
// other hosts' tunnel addresses, taps and firewall. It tells compute when a guest's tap is plugged, over compute's
// API as the service user (compute.serviceUser, as the qemu driver's image downloads).
import { networkInterfaces } from "node:os";
import type { Logger } from "pino";
import { NetworkAgent } from "../network/agent/agent.js";
import { AGENT_TYPE } from "../network/binding.js";
import { AgentNotifier, NetworkCore } from "../network/core.js";
import { findTool } from "../network/drivers/linux/exec.js";
import { parseNetworkDriverName } from "../network/drivers/registry.js";
import { networkMigrations } from "../network/migrations/index.js";
import { networkDriverFor } from "../network/service.js";
import { agentAlive, listAgents } from "../network/store/agents.js";
import type { Bus } from "../shared/bus/index.js";
import { KeystoneSessionError, keystoneSession } from "../shared/client/keystone-session.js";
import { httpClient, type ServiceClient } from "../shared/client/service-client.js";
import type { Config } from "../shared/config.js";
import type { Database } from "../shared/db/index.js";

/** A failure to start the network agent, in one line; `code` 2 is bad configuration. */
export class NetworkAgentStartError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
    this.name = "NetworkAgentStartError";
  }
}

/** The network driver an agent process uses: the configured one, else linux as root (when `linuxByDefault`), else noop. */
export function agentNetworkDriver(cfg: Config, configured: boolean, linuxByDefault: boolean): string {
  if (configured) return cfg.network.driver;
  return linuxByDefault && process.getuid?.() === 0 ? "linux" : "noop";
}

/** Whether `ip` is an address of one of this host's interfaces (in this process's network namespace). */
export function isLocalAddress(ip: string): boolean {
  const want = ip.toLowerCase();
  return Object.values(networkInterfaces()).some((list) =>
    (list ?? []).some((a) => a.address.toLowerCase() === want),
  );
}

/** Check the configuration a network agent process needs; throws NetworkAgentStartError. */
export function checkNetworkAgentConfig(cfg: Config): void {
  try {
    parseNetworkDriverName(cfg.network.driver);
  } catch (e) {
    throw new NetworkAgentStartError(`--network-driver: ${(e as Error).message}`, 2);
  }
  const ip = cfg.network.tunnelIp;
  if (ip && !isLocalAddress(ip))
    throw new NetworkAgentStartError(
      `--tunnel-ip ${ip} is not an address of this host (see ip -br addr): give the address other hosts reach this one at`,
      2,
    );
  if (cfg.network.driver !== "linux") return;
  if (process.getuid?.() !== 0)
    throw new NetworkAgentStartError(
      "the linux network driver makes bridges, taps and firewall rules: run as root, or pass --network-driver noop",
      2,
    );
  if (!findTool("ip")) throw new NetworkAgentStartError("the linux network driver needs iproute2 (ip)", 2);
  const su = cfg.compute.serviceUser ?? {};
  if (!su.authUrl || !su.password)
    throw new NetworkAgentStartError(
      "the linux network agent tells compute when a guest's tap is plugged: pass --auth-url http://CONTROLLER/identity/v3 and a cloud admin's password in STRATUS_SERVICE_PASSWORD (or set compute.serviceUser in stratus.yaml)",
      2,
    );
}

/** Check the network schema the control plane migrates is there and not older than this agent knows. */
async function checkNetworkSchema(db: Database, dbUrl: string): Promise<void> {
  const tables = (await db.kysely.introspection.getTables()).map((t) => t.name);
  const start = `start the control plane first: stratus up --db ${dbUrl} --bus amqp://...`;
  if (!tables.includes("network_migration") || !tables.includes("network_agent"))
    throw new NetworkAgentStartError(`the database ${dbUrl} has no network tables yet: ${start}`);
  const done = new Set(
    (await db.kysely.selectFrom("network_migration").select("name").execute()).map((r) => String(r.name)),
  );
  const missing = Object.keys(networkMigrations).filter((m) => !done.has(m));
  if (missing.length)
    throw new NetworkAgentStartError(
      `the network schema in ${dbUrl} is older than this agent (missing ${missing.join(", ")}): upgrade the control plane`,
    );
}

/** A client of compute's API (below /compute) found in the service user's catalog, with its token. */
function computeApiClient(cfg: Config): ServiceClient {
  const su = cfg.compute.serviceUser ?? {};
  const session = keystoneSession({
    authUrl: su.authUrl as string,
    username: su.username ?? "admin",
    password: su.password as string,
    projectName: su.projectName ?? "admin",
    userDomainName: su.userDomainName ?? "Default",
    projectDomainName: su.projectDomainName ?? "Default",
    region: cfg.region,
    interface: su.interface ?? "public",
  });
  const base = async () => (await session.endpoint("compute")).replace(/\/v2(\.\d+)?$/, "");
  return {
    request: async (method, path, req) => httpClient(await base(), session.token).request(method, path, req),
  };
}

/** A running network agent and how to stop it (its data plane stays). */
export interface RunningNetworkAgent {
  agent: NetworkAgent;
  /** One line on what it runs, for the start-up banner. */
  summary: string;
  stop(): Promise<void>;
}

/**
 * Start this host's network agent on an open database and bus (checked by checkNetworkAgentConfig): check the
 * schema, find compute's API (linux driver), then NetworkAgent.start (register, resync, serve, heartbeat).
 */
export async function startHostNetworkAgent(
  cfg: Config,
  o: { host: string; db: Database; dbUrl: string; bus: Bus; log: Logger; progress: (m: string) => void },
): Promise<RunningNetworkAgent> {
  await checkNetworkSchema(o.db, o.dbUrl);
  const core = new NetworkCore(o.db.kysely, o.db.engine, cfg, o.log, new AgentNotifier(o.log));
  if (cfg.network.driver === "linux") {
    const client = computeApiClient(cfg);
    try {
      await client.request("GET", "/v2.1/");
    } catch (e) {
      const why = e instanceof KeystoneSessionError ? e.message : (e as Error).message;
      throw new NetworkAgentStartError(
        `cannot reach compute's API through the service user's catalog (${why}): check that the control plane runs, and --auth-url and STRATUS_SERVICE_PASSWORD`,
      );
    }
    core.computeEvents.connect(client);
  }
  const tunnelIp = cfg.network.tunnelIp;
  if (cfg.network.driver === "linux" && !tunnelIp)
    o.progress(
      "warning: no --tunnel-ip: VXLAN networks stay on this host (guests here cannot reach DHCP or other hosts)",
    );
  o.progress(`starting the network agent for host ${o.host} (${cfg.network.driver} driver)`);
  const agent = await NetworkAgent.start({
    core,
    bus: o.bus,
    host: o.host,
    driver: networkDriverFor(cfg),
    log: o.log,
    networkNode: false,
    tunnelIp,
  });
  if (tunnelIp) {
    const nodes = (await listAgents(core)).filter(
      (a) => a.agent_type === AGENT_TYPE && a.host !== o.host && agentAlive(core, a),
    );
    for (const a of nodes) {
      const conf = JSON.parse(a.configurations) as { network_node?: boolean; tunnel_ip?: unknown };
      if (conf.network_node && !conf.tunnel_ip)
        o.progress(
          `warning: the network node ${a.host} reports no tunnel_ip, so VXLAN does not reach it: start it with stratus up --tunnel-ip ADDRESS`,
        );
    }
  }
  return {
    agent,
    summary: `network agent ${o.host}: ${cfg.network.driver} driver, tunnel_ip ${tunnelIp ?? "none"}`,
    stop: () => agent.close(),
  };
}

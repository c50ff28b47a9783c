// `stratus agent volume`: one host's volume agent (cinder-volume) as its own process, for storage hosts and for
// `stratus up --no-volume-agent`. It joins the control plane's database and bus, drives this host's backend
// (volume.backend, volumes under DATA_DIR/volumes) and its transports' daemons. A graceful stop stops the daemons;
// a crash (kill -9) leaves them serving the guests, and the next agent on the same data directory adopts them.
import { mkdirSync } from "node:fs";
import { Command } from "commander";
import type { Logger } from "pino";
import type { Database } from "../shared/db/index.js";
import type { Config } from "../shared/config.js";
import { keystoneSession } from "../shared/client/keystone-session.js";
import { httpClient } from "../shared/client/service-client.js";
import { createLogger } from "../shared/log.js";
import { httpImageReader } from "../volume/images.js";
import { VolumeAgent } from "../volume/agent/agent.js";
import { AgentCaster, VolumeCore } from "../volume/core.js";
import { volumeDriverFor, wipeVolumeDriver } from "../volume/drivers/configured.js";
import { parseVolumeBackendName } from "../volume/drivers/registry.js";
import { volumeMigrations } from "../volume/migrations/index.js";
import {
  AgentStartError,
  agentConfig,
  agentHost,
  openShared,
  redactUrl,
  startFailed,
  stopOnSignals,
  takePidFile,
  type ComputeAgentFlags,
} from "./agent.js";

/** Flags of `stratus agent volume`. */
export interface VolumeAgentFlags extends ComputeAgentFlags {
  volumeBackend?: string;
}

/** A running volume agent process; stop() stops it and its daemons. */
export interface RunningVolumeAgent {
  host: string;
  cfg: Config;
  agent: VolumeAgent;
  /** Where images and compute events go, for the start-up banner. */
  summary: string;
  stop(): Promise<void>;
}

/** Check that the control plane has migrated the volume schema this agent knows. */
async function checkVolumeSchema(db: Database, dbUrl: string): Promise<void> {
  const tables = (await db.kysely.introspection.getTables()).map((t) => t.name);
  const start = `start the control plane first: stratus up --db ${redactUrl(dbUrl)} --bus amqp://...`;
  if (!tables.includes("volume_migration") || !tables.includes("volume_volume"))
    throw new AgentStartError(`the database ${redactUrl(dbUrl)} has no volume tables yet: ${start}`);
  const done = new Set(
    (await db.kysely.selectFrom("volume_migration").select("name").execute()).map((r) => String(r.name)),
  );
  const missing = Object.keys(volumeMigrations).filter((m) => !done.has(m));
  if (missing.length)
    throw new AgentStartError(
      `the volume schema in ${redactUrl(dbUrl)} is older than this agent (missing ${missing.join(", ")}): upgrade the control plane first`,
    );
}

/**
 * With a service user (--auth-url, STRATUS_SERVICE_PASSWORD: compute.serviceUser), read images for volumes made
 * from one and tell compute about grown attached volumes through the APIs in its catalog; returns what it does.
 */
function connectServiceUser(cfg: Config, core: VolumeCore): string {
  const su = cfg.compute.serviceUser ?? {};
  if (!su.authUrl || !su.password)
    return "no service user (--auth-url): volumes from images fail and compute is not told about extended volumes";
  const session = keystoneSession({
    authUrl: su.authUrl,
    username: su.username ?? "admin",
    password: su.password,
    projectName: su.projectName ?? "admin",
    userDomainName: su.userDomainName ?? "Default",
    projectDomainName: su.projectDomainName ?? "Default",
    region: cfg.region,
    interface: su.interface ?? "public",
  });
  core.images = httpImageReader(() => session.endpoint("image"), session.token);
  const compute = async () => (await session.endpoint("compute")).replace(/\/v2(\.\d+)?$/, "");
  core.computeEvents.connect({
    request: async (method, path, req) =>
      httpClient(await compute(), session.token).request(method, path, req),
  });
  return `images and compute events through the catalog of ${su.username ?? "admin"} at ${su.authUrl}`;
}

/** Start the volume agent of `flags.host`: database, bus, schema check, then the agent (reconcile, report, serve). */
export async function startVolumeAgentProcess(
  flags: VolumeAgentFlags,
  opts: { log?: Logger; onProgress?: (msg: string) => void } = {},
): Promise<RunningVolumeAgent> {
  const progress = opts.onProgress ?? (() => {});
  const cfg = agentConfig(flags, process.env, "a volume agent");
  if (flags.volumeBackend !== undefined) cfg.volume.backend = flags.volumeBackend;
  try {
    parseVolumeBackendName(cfg.volume.backend);
  } catch (e) {
    throw new AgentStartError(`--volume-backend: ${(e as Error).message}`, 2);
  }
  const host = agentHost(cfg);
  const log = opts.log ?? createLogger(cfg.logLevel, cfg.logFile);
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const cleanup: Array<() => Promise<void> | void> = [takePidFile(cfg.dataDir, "volume", host)];
  const unwind = async () => {
    for (const fn of cleanup.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    const { db, bus } = await openShared(cfg, flags, log, progress, cleanup);
    await checkVolumeSchema(db, cfg.db as string);
    const core = new VolumeCore(db.kysely, db.engine, cfg, log, new AgentCaster(log));
    const summary = connectServiceUser(cfg, core);
    const driver = volumeDriverFor(cfg);
    // Unwound after the agent's close: the daemons stop once no work is under way.
    cleanup.push(() => wipeVolumeDriver(cfg, driver, log).then(() => undefined));
    cleanup.push(() => core.computeEvents.flush());
    progress(`starting the volume agent for host ${host} (backend ${cfg.volume.backend})`);
    const agent = await VolumeAgent.start({
      core,
      bus,
      host,
      backend: driver.backend,
      backends: driver.backends,
      transports: driver.transports,
      log,
    });
    cleanup.push(() => agent.close());
    return { host, cfg, agent, summary, stop: unwind };
  } catch (e) {
    await unwind();
    throw e;
  }
}

/** `stratus agent volume`. */
export function volumeAgentCommand(): Command {
  return new Command("volume")
    .description(
      "Run one host's volume agent (cinder-volume: its backend and the iSCSI/NBD daemons) against the control plane's DB and bus",
    )
    .option("--host <name>", "this host's name (default: compute.hostName, else the machine's hostname)")
    .option("--bus <url>", "the control plane's message bus: amqp://user:pass@host:port/vhost")
    .option("--db <url>", "the control plane's database: postgresql://..., mysql://... or sqlite:///path")
    .option(
      "--data-dir <dir>",
      "this agent's state: volumes, daemons (default $STRATUS_DATA_DIR or ~/.stratus)",
    )
    .option("--config <file>", "config file (default DATA_DIR/stratus.yaml)")
    .option("--volume-backend <name>", "file or fake (default volume.backend: file)")
    .option(
      "--auth-url <url>",
      "identity's v3 URL for the service user that reads images (volumes from images) and tells compute about extended volumes (compute.serviceUser.authUrl); its password in STRATUS_SERVICE_PASSWORD",
    )
    .option("--auth-user <name>", "that user, a cloud admin (default admin)")
    .option("--auth-project <name>", "the project its token is scoped to (default admin)")
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent")
    .option("--log-file <file>", "write JSON logs here instead of stdout")
    .action(async (flags: VolumeAgentFlags) => {
      const t0 = Date.now();
      const running = await startVolumeAgentProcess(flags, {
        onProgress: (m) => console.error(`stratus: ${m}...`),
      }).catch((e: Error) => startFailed("volume", e));
      const protocols = [...running.agent.transports.keys()].join(", ") || "none";
      console.error(`stratus: ${running.summary}`);
      console.log(
        `Volume agent ${running.host} is ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: backend ${running.cfg.volume.backend}, transports ${protocols}, bus ${redactUrl(running.cfg.bus)}. Stop with Ctrl-C.`,
      );
      stopOnSignals("volume", "its daemons stop; attached guests lose their volumes", running.stop);
    });
}

// `stratus agent compute`: one compute agent (nova-compute) as its own process, for split deployments. It joins a
// control plane that `stratus up --db URL --bus amqp://...` runs: same database, same message bus. The fake
// driver's guests live in DATA_DIR/fake-hosts/<host>.json, so they outlive the agent as a real hypervisor's do.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import type { Logger } from "pino";
import { ComputeAgent } from "../compute/agent/agent.js";
import { defaultHostName } from "../compute/control.js";
import { FakeStateFileError, persistentFakeDriver } from "../compute/drivers/fake-persist.js";
import { createDriver, parseDriverName } from "../compute/drivers/registry.js";
import { QemuDriver } from "../compute/drivers/qemu/driver.js";
import { qemuDriverOptions } from "../compute/qemu-host.js";
import { AgentQemuError, agentQemuContext } from "./agent-qemu.js";
import {
  agentNetworkDriver,
  checkNetworkAgentConfig,
  NetworkAgentStartError,
  startHostNetworkAgent,
  type RunningNetworkAgent,
} from "./agent-network.js";
import { networkDriverConfigured } from "./configured.js";
import { volumeAgentCommand } from "./agent-volume.js";
import type { VirtDriver } from "../compute/drivers/types.js";
import { computeMigrations } from "../compute/migrations/index.js";
import { listServices, serviceIsUp } from "../compute/servicegroup.js";
import { BusUnavailable, RpcTimeout, Unroutable, createBus, type Bus } from "../shared/bus/index.js";
import { loadConfig, type Config } from "../shared/config.js";
import { openDatabase, type Database } from "../shared/db/index.js";
import { createLogger } from "../shared/log.js";

const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A failure the agent explains in one line (what is wrong, what to do) before exiting with `code`. */
export class AgentStartError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
    this.name = "AgentStartError";
  }
}

/** A URL with its password hidden. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** Flags of `stratus agent compute`, as commander parses them. */
export interface ComputeAgentFlags {
  host?: string;
  bus?: string;
  db?: string;
  dataDir?: string;
  config?: string;
  computeDriver?: string;
  authUrl?: string;
  authUser?: string;
  authProject?: string;
  metadataUrl?: string;
  logLevel?: string;
  logFile?: string;
  /** This host's network agent: its driver, its VXLAN tunnel address, and whether it runs (commander's --no-network-agent). */
  networkDriver?: string;
  tunnelIp?: string;
  networkAgent?: boolean;
}

/** A running agent process's parts; stop() ends it cleanly (guests keep running). */
export interface RunningComputeAgent {
  host: string;
  cfg: Config;
  agent: ComputeAgent;
  /** Where the fake host's guests are kept (fake driver only). */
  stateFile?: string;
  /** Where the qemu driver's images and metadata come from (qemu driver only). */
  summary?: string;
  /** The host's network agent, when this process runs it too. */
  network?: RunningNetworkAgent;
  stop(): Promise<void>;
}

/** `o` without its undefined members. */
const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * Configuration for the agent: defaults < config file < STRATUS_* environment < flags; then the agent's checks
 * (`what` names the agent in errors).
 */
export function agentConfig(
  flags: ComputeAgentFlags,
  env: NodeJS.ProcessEnv = process.env,
  what = "a compute agent",
): Config {
  let cfg: Config;
  try {
    cfg = loadConfig(
      {
        dataDir: flags.dataDir,
        config: flags.config,
        db: flags.db,
        bus: flags.bus,
        logLevel: flags.logLevel as Config["logLevel"] | undefined,
        logFile: flags.logFile,
        compute: {
          driver: flags.computeDriver,
          hostName: flags.host,
          ...(flags.authUrl || flags.authUser || flags.authProject
            ? {
                serviceUser: defined({
                  authUrl: flags.authUrl,
                  username: flags.authUser,
                  projectName: flags.authProject,
                }),
              }
            : {}),
          ...(flags.metadataUrl ? { metadata: { url: flags.metadataUrl } } : {}),
        } as Config["compute"],
        network: { driver: flags.networkDriver, tunnelIp: flags.tunnelIp } as Config["network"],
      },
      env,
    );
  } catch (e) {
    throw new AgentStartError((e as Error).message, 2);
  }
  if (!cfg.db)
    throw new AgentStartError(
      `${what} needs the control plane's database: pass --db URL (the one \`stratus up --db URL\` uses)`,
      2,
    );
  if (!/^amqps?:\/\//.test(cfg.bus))
    throw new AgentStartError(
      `${what} needs the control plane's message bus, not "${redactUrl(cfg.bus)}": pass --bus amqp://... (the one \`stratus up --bus URL\` uses)`,
      2,
    );
  if (!cfg.logFile && !flags.logLevel) cfg.logLevel = "warn";
  return cfg;
}

/** Check the compute schema the control plane migrates is there and not older than this agent knows. */
async function checkSchema(db: Database, dbUrl: string): Promise<void> {
  let tables: string[];
  try {
    tables = (await db.kysely.introspection.getTables()).map((t) => t.name);
  } catch (e) {
    throw new AgentStartError(
      `cannot reach the database at ${redactUrl(dbUrl)}: ${(e as Error).message}; start it or fix --db`,
    );
  }
  const start = `start the control plane first: stratus up --db ${redactUrl(dbUrl)} --bus amqp://...`;
  if (!tables.includes("compute_migration") || !tables.includes("compute_service"))
    throw new AgentStartError(`the database ${redactUrl(dbUrl)} has no compute tables yet: ${start}`);
  const done = new Set(
    (await db.kysely.selectFrom("compute_migration").select("name").execute()).map((r) => String(r.name)),
  );
  const missing = Object.keys(computeMigrations).filter((m) => !done.has(m));
  if (missing.length)
    throw new AgentStartError(
      `the compute schema in ${redactUrl(dbUrl)} is older than this agent (missing ${missing.join(", ")}): upgrade the control plane and ${start.replace(/^start/, "start it")}`,
    );
}

/** Take DATA_DIR/agent-<kind>-<host>.pid, refusing while another live process holds it. */
export function takePidFile(
  dataDir: string,
  kind: "compute" | "network" | "volume",
  host: string,
): () => void {
  const file = join(dataDir, `agent-${kind}-${host}.pid`);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
    }
    const pid = Number(readFileSync(file, "utf8").trim());
    let alive = false;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === "EPERM";
      }
    }
    if (alive)
      throw new AgentStartError(
        `another ${kind} agent for host ${host} runs on this data directory (pid ${pid}): stop it first (${file})`,
      );
    rmSync(file, { force: true }); // left by an agent that was killed
  }
}

/** Whether some conductor has heartbeated recently (the agent needs one to register its resources). */
async function conductorUp(db: Database, cfg: Config): Promise<boolean> {
  const rows = await listServices(db.kysely, "nova-conductor").catch(() => []);
  return rows.some((s) => serviceIsUp(s, cfg));
}

/** Open the control plane's database and connect its bus (each added to `cleanup`). */
export async function openShared(
  cfg: Config,
  flags: ComputeAgentFlags,
  log: Logger,
  progress: (msg: string) => void,
  cleanup: Array<() => Promise<void> | void>,
): Promise<{ db: Database; bus: Bus }> {
  const dbUrl = cfg.db as string;
  progress(`opening the database ${redactUrl(dbUrl)}`);
  let db: Database;
  try {
    db = await openDatabase(dbUrl);
  } catch (e) {
    throw new AgentStartError(`--db: ${(e as Error).message}`, 2);
  }
  cleanup.push(() => db.close());
  try {
    await db.kysely.introspection.getTables();
  } catch (e) {
    throw new AgentStartError(
      `cannot reach the database at ${redactUrl(dbUrl)}: ${(e as Error).message}; start it or fix --db`,
    );
  }
  progress(`connecting to the message bus ${redactUrl(cfg.bus)}`);
  let bus: Bus;
  // Connection retries are reported once, below, unless the operator asked for a log level.
  const busLog = log.child({ component: "bus" });
  if (!flags.logLevel && log.isLevelEnabled("warn")) busLog.level = "error";
  try {
    bus = await createBus(cfg.bus, busLog);
    busLog.level = log.level;
  } catch (e) {
    const why =
      e instanceof BusUnavailable ? e.message : `cannot use the message bus: ${(e as Error).message}`;
    throw new AgentStartError(`${why}; start RabbitMQ or fix --bus`);
  }
  cleanup.push(() => bus.close());
  return { db, bus };
}

/** The host name flags and configuration give, checked. */
export function agentHost(cfg: Config): string {
  const host = cfg.compute.hostName ?? defaultHostName();
  if (!HOST_RE.test(host))
    throw new AgentStartError(`--host ${host}: a host name is letters, digits, "_", "." and "-"`, 2);
  return host;
}

/** Set the network driver of an agent process (see agentNetworkDriver) and check the network configuration. */
function networkAgentSetup(cfg: Config, flags: ComputeAgentFlags, linuxByDefault: boolean): void {
  const configured = flags.networkDriver !== undefined || networkDriverConfigured(cfg, flags.config);
  cfg.network.driver = agentNetworkDriver(cfg, configured, linuxByDefault);
  try {
    checkNetworkAgentConfig(cfg);
  } catch (e) {
    if (e instanceof NetworkAgentStartError) throw new AgentStartError(e.message, e.code);
    throw e;
  }
}

/** Start this host's network agent on the shared database and bus, mapping its start errors. */
async function startNetwork(
  cfg: Config,
  o: Parameters<typeof startHostNetworkAgent>[1],
): Promise<RunningNetworkAgent> {
  try {
    return await startHostNetworkAgent(cfg, o);
  } catch (e) {
    if (e instanceof NetworkAgentStartError) throw new AgentStartError(e.message, e.code);
    throw e;
  }
}

/**
 * Start a network agent (`stratus agent network`) for `flags.host`: check the configuration, open the database
 * and the bus, then the agent (never the network node: `stratus up` runs that one).
 */
export async function startNetworkAgentProcess(
  flags: ComputeAgentFlags,
  opts: { log?: Logger; onProgress?: (msg: string) => void } = {},
): Promise<{ host: string; cfg: Config; network: RunningNetworkAgent; stop(): Promise<void> }> {
  const progress = opts.onProgress ?? (() => {});
  const cfg = agentConfig(flags, process.env, "a network agent");
  const host = agentHost(cfg);
  networkAgentSetup(cfg, flags, true);
  const log = opts.log ?? createLogger(cfg.logLevel, cfg.logFile);
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const cleanup: Array<() => Promise<void> | void> = [takePidFile(cfg.dataDir, "network", host)];
  const unwind = async () => {
    for (const fn of cleanup.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    const { db, bus } = await openShared(cfg, flags, log, progress, cleanup);
    const network = await startNetwork(cfg, {
      host,
      db,
      dbUrl: redactUrl(cfg.db as string),
      bus,
      log,
      progress,
    });
    cleanup.push(() => network.stop());
    return { host, cfg, network, stop: unwind };
  } catch (e) {
    await unwind();
    throw e;
  }
}

/**
 * Start a compute agent for `flags.host`: check the database, connect the bus, open the driver (the fake one
 * persistent under the data dir), then ComputeAgent.start (register, report resources, reconcile, serve).
 */
export async function startComputeAgentProcess(
  flags: ComputeAgentFlags,
  opts: { log?: Logger; onProgress?: (msg: string) => void } = {},
): Promise<RunningComputeAgent> {
  const progress = opts.onProgress ?? (() => {});
  const cfg = agentConfig(flags);
  const host = agentHost(cfg);
  let driverName;
  try {
    driverName = parseDriverName(cfg.compute.driver);
  } catch (e) {
    throw new AgentStartError(`--compute-driver: ${(e as Error).message}`, 2);
  }
  // The host's network agent runs here too unless told not to; linux by default only beside real (qemu) guests.
  const withNetwork = flags.networkAgent === true;
  if (withNetwork) networkAgentSetup(cfg, flags, driverName === "qemu");
  const log = opts.log ?? createLogger(cfg.logLevel, cfg.logFile);
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const cleanup: Array<() => Promise<void> | void> = [takePidFile(cfg.dataDir, "compute", host)];
  if (withNetwork) {
    try {
      cleanup.push(takePidFile(cfg.dataDir, "network", host));
    } catch (e) {
      cleanup.pop()?.();
      throw e;
    }
  }
  const unwind = async () => {
    for (const fn of cleanup.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    const { db, bus } = await openShared(cfg, flags, log, progress, cleanup);
    await checkSchema(db, cfg.db as string);
    let driver: VirtDriver;
    let stateFile: string | undefined;
    let summary: string | undefined;
    const fake = {
      vcpus: cfg.compute.fake.vcpus,
      memoryMb: cfg.compute.fake.memoryMb,
      diskGb: cfg.compute.fake.diskGb,
      spawnDelayMs: cfg.compute.fake.spawnDelayMs,
    };
    try {
      if (driverName === "fake") {
        const d = persistentFakeDriver(join(cfg.dataDir, "fake-hosts"), host, fake);
        stateFile = d.file;
        driver = d;
      } else if (driverName === "qemu") {
        progress("authenticating the service user and finding the image and metadata services");
        const ctx = await agentQemuContext(cfg, db.kysely, log);
        cleanup.push(() => ctx.close());
        summary = ctx.summary;
        const qemu = createDriver(
          "qemu",
          qemuDriverOptions(cfg, host, { log, images: ctx.images, metadata: ctx.metadata }),
        );
        cleanup.push(() => qemu.close()); // runs after agent.stop (cleanup unwinds in reverse); guests keep running
        driver = qemu;
      } else driver = createDriver(driverName);
    } catch (e) {
      if (e instanceof FakeStateFileError) throw new AgentStartError(e.message);
      if (e instanceof AgentQemuError) throw new AgentStartError(e.message, e.code);
      throw e;
    }
    let network: RunningNetworkAgent | undefined;
    if (withNetwork) {
      const running = await startNetwork(cfg, {
        host,
        db,
        dbUrl: redactUrl(cfg.db as string),
        bus,
        log,
        progress,
      });
      network = running;
      cleanup.push(() => running.stop());
    }
    if (!(await conductorUp(db, cfg)))
      progress(
        "no conductor has reported lately; waiting up to 60 s for the control plane (stratus up) to answer",
      );
    progress(`starting the compute agent for host ${host}`);
    let agent: ComputeAgent;
    try {
      agent = await ComputeAgent.start({ host, driver, db: db.kysely, bus, log, cfg });
    } catch (e) {
      if (e instanceof RpcTimeout || e instanceof Unroutable)
        throw new AgentStartError(
          `the conductor did not answer on the bus (${e.message}): start the control plane first (stratus up --bus SAME_URL --db SAME_URL)`,
        );
      throw e;
    }
    cleanup.push(() => agent.stop());
    return { host, cfg, agent, stateFile, summary, network, stop: unwind };
  } catch (e) {
    await unwind();
    throw e;
  }
}

/** Stop `stop()` on SIGINT or SIGTERM (exit 1 if it takes over 15 s), saying what is left running. */
export function stopOnSignals(name: string, what: string, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`stratus agent ${name}: ${sig} received, stopping (${what})`);
    const force = setTimeout(() => {
      console.error(`stratus agent ${name}: shutdown took over 15 s; exiting anyway`);
      process.exit(1);
    }, 15_000);
    force.unref();
    await stop().catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGINT", () => void onSignal("SIGINT"));
  process.on("SIGTERM", () => void onSignal("SIGTERM"));
}

/** Report a start failure of `stratus agent NAME` and exit with its code. */
export function startFailed(name: string, e: Error): never {
  if (e instanceof AgentStartError) console.error(`stratus agent ${name}: ${e.message}`);
  else console.error(`stratus agent ${name}: failed to start: ${e.message}`);
  process.exit(e instanceof AgentStartError ? e.code : 1);
}

/** The options every agent takes: host, control plane, data dir, config, service user, logs. */
export function commonOptions(cmd: Command, authUse: string): Command {
  return cmd
    .option("--host <name>", "this host's name (default: compute.hostName, else the machine's hostname)")
    .option("--bus <url>", "the control plane's message bus: amqp://user:pass@host:port/vhost")
    .option("--db <url>", "the control plane's database: postgresql://..., mysql://... or sqlite:///path")
    .option("--data-dir <dir>", "this agent's state (default $STRATUS_DATA_DIR or ~/.stratus)")
    .option("--config <file>", "config file (default DATA_DIR/stratus.yaml)")
    .option(
      "--auth-url <url>",
      `${authUse} (compute.serviceUser.authUrl), e.g. http://controller:8080/identity/v3; its password in STRATUS_SERVICE_PASSWORD`,
    )
    .option(
      "--auth-user <name>",
      "that user, a cloud admin (so that every project's images can be read) (default admin)",
    )
    .option("--auth-project <name>", "the project its token is scoped to (default admin)")
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent")
    .option("--log-file <file>", "write JSON logs here instead of stdout");
}

/** The options of this host's network agent. */
function networkOptions(cmd: Command, defaultDriver: string): Command {
  return cmd
    .option(
      "--network-driver <name>",
      `data-plane driver of this host's network agent: linux (bridges, VXLAN, taps, security groups) or noop (default network.driver, else ${defaultDriver})`,
    )
    .option(
      "--tunnel-ip <address>",
      "this host's VXLAN tunnel address, an address of this host the other hosts reach (network.tunnelIp; stratus up --tunnel-ip gives the network node's)",
    );
}

/** The `stratus agent` command group (`stratus agent compute`, `network`, `volume`). */
export function agentCommand(): Command {
  const agent = new Command("agent").description(
    "Run one per-host agent of a split deployment (joins a control plane started with stratus up --db --bus)",
  );
  const compute = agent
    .command("compute")
    .description(
      "Run a compute agent (nova-compute) for one host against the control plane's DB and bus, and this host's network agent beside it (unless --no-network-agent)",
    );
  commonOptions(
    compute,
    "identity's v3 URL for the service user that finds and downloads images (qemu) and tells compute about plugged taps (linux network driver)",
  )
    .option("--compute-driver <name>", "virt driver: fake or qemu (default compute.driver: fake)")
    .option(
      "--metadata-url <url>",
      "qemu: the metadata service guests' requests go to, e.g. the control plane's (compute.metadata.port); secret in STRATUS_METADATA_SECRET (default: this agent serves metadata itself)",
    );
  networkOptions(compute, "linux as root with the qemu driver, else noop")
    .option(
      "--no-network-agent",
      "do not run this host's network agent here (run stratus agent network apart)",
    )
    .action(async (flags: ComputeAgentFlags) => {
      const t0 = Date.now();
      const running = await startComputeAgentProcess(flags, {
        onProgress: (m) => console.error(`stratus: ${m}...`),
      }).catch((e: Error) => startFailed("compute", e));
      const driver = running.agent.deps.driver;
      const guests = (await driver.listInstances()).length;
      const accel =
        driver instanceof QemuDriver && driver.accel ? `, ${driver.accel.accel.toUpperCase()}` : "";
      if (running.summary) console.error(`stratus: ${running.summary}`);
      if (running.network) console.error(`stratus: ${running.network.summary}`);
      console.log(
        `Compute agent ${running.host} is ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: driver ${running.cfg.compute.driver}${accel}` +
          `${running.stateFile ? ` (guests in ${running.stateFile})` : ""}, ${guests} guest(s), bus ${redactUrl(running.cfg.bus)}. Stop with Ctrl-C.`,
      );
      stopOnSignals("compute", "guests keep running", running.stop);
    });
  const network = agent
    .command("network")
    .description(
      "Run one host's network agent alone (bridges, VXLAN to the other hosts, taps, security groups) against the control plane's DB and bus; stratus agent compute runs it too",
    );
  commonOptions(
    network,
    "identity's v3 URL for the service user that tells compute about plugged taps (linux driver)",
  );
  networkOptions(network, "linux as root, else noop").action(async (flags: ComputeAgentFlags) => {
    const t0 = Date.now();
    const running = await startNetworkAgentProcess(flags, {
      onProgress: (m) => console.error(`stratus: ${m}...`),
    }).catch((e: Error) => startFailed("network", e));
    console.log(
      `Network agent ${running.host} is ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: driver ${running.cfg.network.driver}, tunnel_ip ${running.cfg.network.tunnelIp ?? "none"}, bus ${redactUrl(running.cfg.bus)}. Stop with Ctrl-C.`,
    );
    stopOnSignals("network", "the data plane stays", running.stop);
  });
  agent.addCommand(volumeAgentCommand());
  return agent;
}

/** Parse a `--compute-hosts` value: how many in-process agents `stratus up` runs (0 = none). */
export function parseHostCount(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n) || n > 10000)
    throw new InvalidArgumentError("must be a whole number of hosts (0-10000)");
  return n;
}

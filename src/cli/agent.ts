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
  stop(): Promise<void>;
}

/** `o` without its undefined members. */
const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Configuration for the agent: defaults < config file < STRATUS_* environment < flags; then the agent's checks. */
export function agentConfig(flags: ComputeAgentFlags, env: NodeJS.ProcessEnv = process.env): Config {
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
      },
      env,
    );
  } catch (e) {
    throw new AgentStartError((e as Error).message, 2);
  }
  if (!cfg.db)
    throw new AgentStartError(
      "a compute agent needs the control plane's database: pass --db URL (the one `stratus up --db URL` uses)",
      2,
    );
  if (!/^amqps?:\/\//.test(cfg.bus))
    throw new AgentStartError(
      `a compute agent needs the control plane's message bus, not "${redactUrl(cfg.bus)}": pass --bus amqp://... (the one \`stratus up --bus URL\` uses)`,
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

/** Take DATA_DIR/agent-compute-<host>.pid, refusing while another live process holds it. */
function takePidFile(file: string, host: string): () => void {
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
        `another compute agent for host ${host} runs on this data directory (pid ${pid}): stop it first (${file})`,
      );
    rmSync(file, { force: true }); // left by an agent that was killed
  }
}

/** Whether some conductor has heartbeated recently (the agent needs one to register its resources). */
async function conductorUp(db: Database, cfg: Config): Promise<boolean> {
  const rows = await listServices(db.kysely, "nova-conductor").catch(() => []);
  return rows.some((s) => serviceIsUp(s, cfg));
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
  const host = cfg.compute.hostName ?? defaultHostName();
  if (!HOST_RE.test(host))
    throw new AgentStartError(`--host ${host}: a host name is letters, digits, "_", "." and "-"`, 2);
  let driverName;
  try {
    driverName = parseDriverName(cfg.compute.driver);
  } catch (e) {
    throw new AgentStartError(`--compute-driver: ${(e as Error).message}`, 2);
  }
  const log = opts.log ?? createLogger(cfg.logLevel, cfg.logFile);
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const releasePid = takePidFile(join(cfg.dataDir, `agent-compute-${host}.pid`), host);
  const cleanup: Array<() => Promise<void> | void> = [releasePid];
  const unwind = async () => {
    for (const fn of cleanup.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    const dbUrl = cfg.db as string;
    progress(`opening the database ${redactUrl(dbUrl)}`);
    let db: Database;
    try {
      db = await openDatabase(dbUrl);
    } catch (e) {
      throw new AgentStartError(`--db: ${(e as Error).message}`, 2);
    }
    cleanup.push(() => db.close());
    await checkSchema(db, dbUrl);
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
    return { host, cfg, agent, stateFile, summary, stop: unwind };
  } catch (e) {
    await unwind();
    throw e;
  }
}

/** The `stratus agent` command group (`stratus agent compute`). */
export function agentCommand(): Command {
  const agent = new Command("agent").description(
    "Run one per-host agent of a split deployment (joins a control plane started with stratus up --db --bus)",
  );
  agent
    .command("compute")
    .description("Run a compute agent (nova-compute) for one host against the control plane's DB and bus")
    .option(
      "--host <name>",
      "this compute host's name (default: compute.hostName, else the machine's hostname)",
    )
    .option("--bus <url>", "the control plane's message bus: amqp://user:pass@host:port/vhost")
    .option("--db <url>", "the control plane's database: postgresql://..., mysql://... or sqlite:///path")
    .option("--data-dir <dir>", "this agent's state (default $STRATUS_DATA_DIR or ~/.stratus)")
    .option("--config <file>", "config file (default DATA_DIR/stratus.yaml)")
    .option("--compute-driver <name>", "virt driver: fake or qemu (default compute.driver: fake)")
    .option(
      "--auth-url <url>",
      "qemu: identity's v3 URL for the service user that finds and downloads images (compute.serviceUser.authUrl), e.g. http://controller:8080/identity/v3; its password in STRATUS_SERVICE_PASSWORD",
    )
    .option(
      "--auth-user <name>",
      "qemu: that user, a cloud admin so that every project's images can be read (default admin)",
    )
    .option("--auth-project <name>", "qemu: the project its token is scoped to (default admin)")
    .option(
      "--metadata-url <url>",
      "qemu: the metadata service guests' requests go to, e.g. the control plane's (compute.metadata.port); secret in STRATUS_METADATA_SECRET (default: this agent serves metadata itself)",
    )
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent")
    .option("--log-file <file>", "write JSON logs here instead of stdout")
    .action(async (flags: ComputeAgentFlags) => {
      const t0 = Date.now();
      const running = await startComputeAgentProcess(flags, {
        onProgress: (m) => console.error(`stratus: ${m}...`),
      }).catch((e: Error) => {
        if (e instanceof AgentStartError) console.error(`stratus agent compute: ${e.message}`);
        else console.error(`stratus agent compute: failed to start: ${e.message}`);
        process.exit(e instanceof AgentStartError ? e.code : 1);
      });
      const driver = running.agent.deps.driver;
      const guests = (await driver.listInstances()).length;
      const accel =
        driver instanceof QemuDriver && driver.accel ? `, ${driver.accel.accel.toUpperCase()}` : "";
      if (running.summary) console.error(`stratus: ${running.summary}`);
      console.log(
        `Compute agent ${running.host} is ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: driver ${running.cfg.compute.driver}${accel}` +
          `${running.stateFile ? ` (guests in ${running.stateFile})` : ""}, ${guests} guest(s), bus ${redactUrl(running.cfg.bus)}. Stop with Ctrl-C.`,
      );
      let stopping = false;
      const stop = async (sig: string) => {
        if (stopping) return;
        stopping = true;
        console.error(`stratus agent compute: ${sig} received, stopping (guests keep running)`);
        const force = setTimeout(() => {
          console.error("stratus agent compute: shutdown took over 15 s; exiting anyway");
          process.exit(1);
        }, 15_000);
        force.unref();
        await running.stop().catch(() => undefined);
        process.exit(0);
      };
      process.on("SIGINT", () => void stop("SIGINT"));
      process.on("SIGTERM", () => void stop("SIGTERM"));
    });
  return agent;
}

/** Parse a `--compute-hosts` value: how many in-process agents `stratus up` runs (0 = none). */
export function parseHostCount(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n) || n > 10000)
    throw new InvalidArgumentError("must be a whole number of hosts (0-10000)");
  return n;
}

import { GUEST_IMAGE_NAMES } from "../cloud/guest-image.js";
import { Command, InvalidArgumentError } from "commander";
import { loadConfig, type Config } from "../shared/config.js";
import { startCloud } from "../cloud/start.js";
import { parseDriverName } from "../compute/drivers/registry.js";
import { QemuDriver } from "../compute/drivers/qemu/driver.js";
import { defaultComputeDriver } from "../compute/qemu-host.js";
import { agentCommand, parseHostCount } from "./agent.js";
import { parseNetworkDriverName } from "../network/drivers/registry.js";
import { publicExecCommand, wipeNetworkCommand } from "./network.js";
import { wipeVolumesCommand } from "./volume.js";
import { computeDriverConfigured, networkDriverConfigured } from "./configured.js";

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("must be a port number (0-65535)");
  return n;
};

/** The operator CLI: `stratus up` and friends. */
export function buildCli(): Command {
  const program = new Command("stratus")
    .description("Stratus: an OpenStack-compatible cloud in one process")
    .showHelpAfterError();
  program
    .command("up")
    .description("Start the whole cloud (all services, one listener) and print how to use it")
    .option("--data-dir <dir>", "where all state lives (default $STRATUS_DATA_DIR or ~/.stratus)")
    .option("--host <host>", "address to listen on (default 127.0.0.1)")
    .option("--port <port>", "port to listen on (default 8080)", int)
    .option("--config <file>", "config file (default DATA_DIR/stratus.yaml)")
    .option(
      "--db <url>",
      "database URL: sqlite:///path, postgresql://..., mysql://... (default SQLite in the data dir)",
    )
    .option("--bus <url>", "message bus: memory or amqp://... (default memory)")
    .option("--public-url <url>", "base URL advertised in the catalog (default http://host:port)")
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent")
    .option("--log-file <file>", "write JSON logs here instead of stdout")
    .option(
      "--listen <service=port...>",
      "also serve one service on its own port at the root (split deployments), e.g. identity=5000",
    )
    .option(
      "--compute-driver <name>",
      "virt driver of the in-process compute agents: qemu or fake (default qemu when qemu-system-x86_64 is installed)",
    )
    .option(
      "--compute-hosts <n>",
      "compute agents (hosts) run in this process (default 1; 0 = none: run `stratus agent compute` apart)",
      parseHostCount,
    )
    .option(
      "--network-driver <name>",
      "data-plane driver of this host's network agent: linux (bridges, DHCP, routers, security groups; the default as root) or noop (API and IP addresses only)",
    )
    .option(
      "--tunnel-ip <address>",
      "this host's VXLAN tunnel address, where other hosts' network agents reach it (network.tunnelIp; default none: VXLAN networks stay on this host)",
    )
    .option(
      "--public-uplink <interface>",
      "opt in to a way off the machine: the public network routes out through this host interface, NATed (network.publicUplink; default none)",
    )
    .option(
      "--plugin-dir <dir>",
      "load every plugin folder in this directory (plugins.dir; default DATA_DIR/plugins)",
    )
    .option("--plugin <folder...>", "also load these plugin folders (plugins.paths), e.g. plugins/cost")
    .option(
      "--no-volume-agent",
      "run no volume agent in this process (volume.localAgent: false; run stratus agent volume on the storage hosts)",
    )
    .action(async (o: Record<string, string | number | boolean | string[] | undefined>) => {
      const listeners: Record<string, number> = {};
      for (const item of (o.listen as string[] | undefined) ?? []) {
        const [name, p] = item.split("=");
        listeners[name] = Number(p);
      }
      let cfg: Config;
      try {
        cfg = loadConfig({
          dataDir: o.dataDir as string | undefined,
          host: o.host as string | undefined,
          port: o.port as number | undefined,
          config: o.config as string | undefined,
          db: o.db as string | undefined,
          bus: o.bus as string | undefined,
          publicUrl: o.publicUrl as string | undefined,
          logLevel: o.logLevel as Config["logLevel"] | undefined,
          logFile: (o.logFile as string | undefined) ?? undefined,
          ...(Object.keys(listeners).length ? { listeners } : {}),
          compute: {
            driver: o.computeDriver as string | undefined,
            hosts: o.computeHosts as number | undefined,
          } as Config["compute"],
          network: {
            driver: o.networkDriver as string | undefined,
            tunnelIp: o.tunnelIp as string | undefined,
            ...(o.publicUplink ? { publicUplink: { interface: o.publicUplink as string } } : {}),
          } as Config["network"],
          ...(o.volumeAgent === false ? { volume: { localAgent: false } as Config["volume"] } : {}),
          plugins: {
            dir: o.pluginDir as string | undefined,
            paths: o.plugin as string[] | undefined,
          } as Config["plugins"],
        });
        if (o.computeDriver === undefined && !computeDriverConfigured(cfg, o.config as string | undefined))
          cfg.compute.driver = defaultComputeDriver();
        if (o.networkDriver === undefined && !networkDriverConfigured(cfg, o.config as string | undefined))
          cfg.network.driver = process.getuid?.() === 0 ? "linux" : "noop";
        parseDriverName(cfg.compute.driver); // an unknown --compute-driver fails now, not after the migrations
        parseNetworkDriverName(cfg.network.driver);
      } catch (e) {
        console.error(`stratus: ${(e as Error).message}`);
        process.exit(2);
      }
      if (!cfg.logFile && !o.logLevel) cfg.logLevel = "warn";
      if (cfg.compute.hosts === 0 && !/^amqps?:\/\//.test(cfg.bus))
        console.error(
          "stratus: no compute host runs in this process and the bus is in-process, so no agent can join: servers cannot be built (pass --bus amqp://... and run stratus agent compute, or --compute-hosts 1)",
        );
      // Signals are handled from the start: one that comes while the cloud starts stops it once started, so what
      // start-up made (volume daemons, the data plane) is closed as after any stop.
      let stopping: string | null = null;
      let started: { close(): Promise<void> } | null = null;
      const stop = async (sig: string) => {
        if (stopping) return;
        stopping = sig;
        if (!started) {
          console.error(`stratus: ${sig} received while starting; stopping once started`);
          return;
        }
        console.error(`stratus: ${sig} received, shutting down`);
        const failed = await started.close().then(
          () => false,
          (e: unknown) => {
            console.error(`stratus: shutdown: ${e instanceof Error ? e.message : String(e)}`);
            for (const x of e instanceof AggregateError ? e.errors : [])
              console.error(`  ${x instanceof Error ? x.message : String(x)}`);
            return true;
          },
        );
        process.exit(failed ? 1 : 0);
      };
      process.on("SIGINT", () => void stop("SIGINT"));
      process.on("SIGTERM", () => void stop("SIGTERM"));
      const t0 = Date.now();
      const cloud = await startCloud(cfg, { onProgress: (m) => console.error(`stratus: ${m}...`) }).catch(
        (e: Error & { code?: string }) => {
          if (e.code === "EADDRINUSE")
            console.error(
              `stratus: port ${cfg.port} on ${cfg.host} is already in use: stop the other process or pass --port PORT`,
            );
          else console.error(`stratus: failed to start: ${e.message}`);
          process.exit(1);
        },
      );
      started = cloud;
      if (stopping) {
        const sig = stopping;
        stopping = null;
        return stop(sig);
      }
      for (const a of cloud.computeControl.agents) {
        const d = a.deps.driver;
        if (d instanceof QemuDriver && d.accel)
          console.error(
            `stratus: compute host ${a.deps.host}: qemu driver, ${d.accel.accel.toUpperCase()} (${d.accel.reason})`,
          );
        else console.error(`stratus: compute host ${a.deps.host}: ${cfg.compute.driver} driver`);
      }
      const netAgent = cloud.network.localAgent;
      if (netAgent)
        console.error(
          `stratus: network host ${netAgent.deps.host}: ${netAgent.deps.driver.name} driver${netAgent.deps.driver.realDataPlane ? ` (bridges, DHCP, routers, security groups; public network: stratus public-exec --data-dir ${cfg.dataDir} -- CMD)` : " (no real data plane: API and IP addresses only, no bridges, DHCP or routing on this host)"}`,
        );
      if (cloud.guestImage)
        console.error(
          `stratus: guest image ${cloud.guestImage.version}: ${GUEST_IMAGE_NAMES.direct} (direct kernel boot) and ${GUEST_IMAGE_NAMES.disk} (boots from its disk), user ${cloud.guestImage.user}`,
        );
      const s3Port = cloud.listenerPorts.get("s3");
      console.log(
        [
          `Stratus is ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: dashboard ${cloud.url}/, identity ${cloud.url}/identity/v3`,
          `  Use the CLI:  export OS_CLIENT_CONFIG_FILE=${cloud.cloudsYaml} OS_CLOUD=stratus-admin && openstack token issue`,
          `  (or: . ${cfg.dataDir}/admin-openrc ; demo user: OS_CLOUD=stratus-demo). Stop with Ctrl-C.`,
          `  S3 (path-style, SigV4/V2 with keys from \`openstack ec2 credentials create\`): ${cloud.url}/s3${s3Port !== undefined ? ` and http://${cfg.host}:${s3Port}/` : ""}`,
        ].join("\n"),
      );
    });
  program.addCommand(agentCommand());
  program.addCommand(publicExecCommand());
  program.addCommand(wipeNetworkCommand());
  program.addCommand(wipeVolumesCommand());
  return program;
}

await buildCli().parseAsync(process.argv);

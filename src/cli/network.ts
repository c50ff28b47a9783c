// The network data plane's operator commands: `stratus public-exec` runs a command in a cloud's public network
// namespace (where floating IPs are reachable), and `stratus wipe-network` removes a stopped cloud's whole data plane
// (namespaces, dnsmasq, bridges, taps, firewall). Both find the cloud by its data directory (identity.ts).
import { spawn } from "node:child_process";
import { Command } from "commander";
import { loadConfig } from "../shared/config.js";
import { LinuxDriver } from "../network/drivers/linux/driver.js";
import { findTool } from "../network/drivers/linux/exec.js";
import { cloudNetIdentity } from "../network/drivers/linux/identity.js";
import { namespaceExists } from "../network/drivers/linux/ip-netns.js";
import { publicCommand } from "../network/drivers/linux/public.js";

/** Fail with a one-line reason (exit code 2: the command never ran). */
function fail(message: string): never {
  console.error(`stratus: ${message}`);
  process.exit(2);
}

/** The data directory the flags or the environment name. */
const dataDirOf = (dir: string | undefined): string => loadConfig({ dataDir: dir }, process.env).dataDir;

/** `stratus public-exec [--data-dir DIR] -- CMD [ARGS...]`: CMD's exit code is passed through. */
export function publicExecCommand(): Command {
  return new Command("public-exec")
    .description("Run a command in the cloud's public network namespace (floating IPs are reachable there)")
    .option("--data-dir <dir>", "the cloud's data directory (default $STRATUS_DATA_DIR or ~/.stratus)")
    .argument("<command...>", "the command and its arguments (after --)")
    .action(async (argv: string[], o: { dataDir?: string }) => {
      if (process.getuid?.() !== 0) fail("public-exec needs root (it enters a network namespace)");
      if (!findTool("ip")) fail("public-exec needs iproute2 (ip)");
      const id = cloudNetIdentity(dataDirOf(o.dataDir));
      if (!(await namespaceExists(id.publicNetns)))
        fail(
          `the public network namespace ${id.publicNetns} does not exist: is the cloud of this data directory running with the linux network driver (stratus up as root)?`,
        );
      const full = publicCommand(argv, id.publicNetns);
      const child = spawn(full[0], full.slice(1), { stdio: "inherit" });
      child.on("error", (e) => fail(`cannot run ${argv[0]}: ${e.message}`));
      child.on("exit", (code, signal) => {
        const signals: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
        process.exit(code ?? 128 + (signal && Object.hasOwn(signals, signal) ? signals[signal] : 1));
      });
    });
}

/** `stratus wipe-network [--data-dir DIR]`: remove a stopped cloud's data plane. */
export function wipeNetworkCommand(): Command {
  return new Command("wipe-network")
    .description(
      "Remove the linux network data plane of a stopped cloud (namespaces, dnsmasq, bridges, taps, firewall)",
    )
    .option("--data-dir <dir>", "the cloud's data directory (default $STRATUS_DATA_DIR or ~/.stratus)")
    .action(async (o: { dataDir?: string }) => {
      if (process.getuid?.() !== 0) fail("wipe-network needs root");
      const id = cloudNetIdentity(dataDirOf(o.dataDir));
      const driver = new LinuxDriver({
        prefix: id.prefix,
        stateDir: id.stateDir,
        firewallTag: id.firewallTag,
      });
      const done = await driver.wipe();
      console.log(done.length ? done.map((d) => `removed ${d}`).join("\n") : "nothing to remove");
    });
}

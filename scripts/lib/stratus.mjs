// Start `bin/stratus up` as a child process for a harness (tempest, benchmarks) and wait until it is ready.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./setup.mjs";

/**
 * Start Stratus on dataDir and a free port (--port 0: the kernel picks one; clouds.yaml gets the bound port).
 * Resolves when DATA_DIR/clouds.yaml exists, with {url, authUrl, cloudsYaml, clouds, child, stop}.
 */
export async function startStratus({
  dataDir,
  host = "127.0.0.1",
  logFile,
  logLevel = "info",
  env = {},
  timeoutMs = 300_000, // a loaded machine registers the guest images slowly
}) {
  mkdirSync(dataDir, { recursive: true });
  const cloudsYaml = join(dataDir, "clouds.yaml");
  const args = [join(ROOT, "bin", "stratus"), "up", "--data-dir", dataDir, "--host", host, "--port", "0"];
  if (logFile) args.push("--log-file", logFile, "--log-level", logLevel);
  let output = "";
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      STRATUS_PASSWORD_HASH_COST: process.env.STRATUS_PASSWORD_HASH_COST || "12",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((res) => child.on("exit", (code, signal) => res({ code, signal })));
  const stop = async (timeout = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), timeout);
      await exited;
      clearTimeout(t);
    }
    // As root the cloud ran the linux data plane, which outlives it by design: a harness leaves none behind.
    if (process.getuid?.() === 0)
      spawnSync(process.execPath, [join(ROOT, "bin", "stratus"), "wipe-network", "--data-dir", dataDir], {
        stdio: "ignore",
      });
    return exited;
  };
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(cloudsYaml)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `stratus up exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`,
      );
    if (Date.now() > deadline) {
      await stop(1000);
      throw new Error(`stratus up was not ready within ${timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const clouds = await readClouds(cloudsYaml);
  const authUrl = clouds["stratus-admin"].auth.auth_url;
  return {
    url: authUrl.replace(/\/identity\/v3$/, ""),
    authUrl,
    cloudsYaml,
    clouds,
    child,
    stop,
    output: () => output,
  };
}

/** The clouds of a clouds.yaml file. */
export async function readClouds(file) {
  const { parse } = await import("yaml");
  return parse(readFileSync(file, "utf8")).clouds;
}

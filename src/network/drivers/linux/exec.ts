// Runs the data plane's tools: always execFile with an argv (never a shell), optionally inside a named network
// namespace (`ip netns exec NS ...`), with a timeout and bounded output. Tools are looked up once on PATH plus the
// sbin directories (a non-login root shell may lack them).
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { CommandFailed } from "./errors.js";
import { safeNetns } from "./names.js";

const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];
const found = new Map<string, string | null>();

/** Absolute path of a tool (searched on PATH, then the sbin directories), or null when it is not installed. */
export function findTool(name: string): string | null {
  const cached = found.get(name);
  if (cached !== undefined) return cached;
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter((d) => isAbsolute(d)), ...SBIN];
  let hit: string | null = null;
  for (const d of dirs) {
    try {
      accessSync(join(d, name), constants.X_OK);
      hit = join(d, name);
      break;
    } catch {
      // not here
    }
  }
  found.set(name, hit);
  return hit;
}

/** Options of one command run. */
export interface RunOptions {
  /** Run inside this named network namespace (`ip netns exec`). */
  netns?: string;
  /** Written to the command's stdin (iptables-restore, ipset restore, nft -f -). */
  input?: string;
  /** Wall-clock bound (default 30 s). */
  timeoutMs?: number;
  /** Exit codes that are not failures (default only 0). */
  okCodes?: readonly number[];
}

/** What a finished command printed. */
export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** The argv actually executed for `argv` in `netns` (exported for tests and logs). */
export function commandLine(argv: readonly string[], netns?: string): string[] {
  const [tool, ...rest] = argv;
  const bin = findTool(tool) ?? tool;
  if (!netns) return [bin, ...rest];
  return [findTool("ip") ?? "ip", "netns", "exec", safeNetns(netns), bin, ...rest];
}

/** Called with each command line (and its input) as it starts: tests check the order of what the driver does. */
export const runObservers = new Set<(argv: readonly string[], input?: string) => void>();

/** Run a tool; rejects with CommandFailed on a non-ok exit, a timeout or a spawn error. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = commandLine(argv, opts.netns);
  for (const observe of runObservers) observe(full, opts.input);
  const ok = opts.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = execFile(
      full[0],
      full.slice(1),
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        if (code !== null && ok.includes(code)) resolve({ stdout, stderr, code });
        else reject(new CommandFailed(full, code, stderr || String(err?.message ?? ""), { cause: err }));
      },
    );
    child.stdin?.on("error", () => {}); // the tool may exit before reading its input; its exit code says why
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

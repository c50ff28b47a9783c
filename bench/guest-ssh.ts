// Reaching a TCG guest of the test image over a forwarded SSH port, shared by benches and guest tests.
import { spawn } from "node:child_process";
import { createServer } from "node:net";

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

/** ssh arguments into the guest as cirros on a forwarded port, running a script read from stdin. */
export const sshArgs = (port: number, key: string): string[] => [
  ...["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
  ...["-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "-i", key, "-p", String(port)],
  "cirros@127.0.0.1",
  "sh -s",
];

/** Runs a script in the guest over SSH as cirros; resolves with stdout, rejects on failure. */
export function ssh(port: number, key: string, script: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn("ssh", sshArgs(port, key), { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`ssh exit ${code}: ${err.trim()}`));
    });
    p.stdin.on("error", () => {}); // ssh may exit before reading its script (connection refused): close reports it
    p.stdin.end(script);
  });
}

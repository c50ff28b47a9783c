// The metadata forward command (QEMU's guestfwd `cmd:`): socat when installed, else node with guestfwd-pipe.js; each
// variant is run as QEMU runs it (/bin/sh -c, the connection on stdin/stdout) against a unix socket listener.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { buildQemuArgs } from "../../../../src/compute/drivers/qemu/cmdline.js";
import { metadataForwardCommand } from "../../../../src/compute/drivers/qemu/metadata-forward.js";
import { findExecutable } from "../../../../src/shared/qemu-img.js";

const dir = mkdtempSync(join(tmpdir(), "stratus-mdfwd-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const socat = findExecutable("socat");

/** A unix socket listener that handles each connection with `onConn`. */
async function listener(
  name: string,
  onConn: (s: Socket) => void,
): Promise<{ path: string; server: Server }> {
  const path = join(dir, name);
  const server = createServer(onConn);
  await new Promise<void>((r) => server.listen(path, r));
  return { path, server };
}

/**
 * Runs `cmd` as QEMU does and writes `input`; ends stdin at once when `halfClose`, else once `expect` has come back
 * (the guest closes after reading its answer). Resolves with all it printed once it exited.
 */
function run(cmd: string[], input: string, expect: string, halfClose: boolean): Promise<string> {
  const child = spawn("/bin/sh", ["-c", cmd.join(" ")], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    if (out === expect) child.stdin.end();
  });
  child.stdin.write(input);
  if (halfClose) child.stdin.end();
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", () => resolve(out));
  });
}

describe("metadataForwardCommand", () => {
  test("socat when given, else node with the pipe script; QEMU's guestfwd accepts both", () => {
    const s = metadataForwardCommand("/run/x/md.sock", "/usr/bin/socat");
    assert.deepEqual(s, ["/usr/bin/socat", "-t", "5", "-", "UNIX-CONNECT:/run/x/md.sock"]);
    const n = metadataForwardCommand("/run/x/md.sock", null);
    assert.equal(n[0], process.execPath);
    assert.match(n[1], /guestfwd-pipe\.js$/);
    assert.equal(n[2], "/run/x/md.sock");
    for (const command of [s, n]) {
      const args = buildQemuArgs({
        uuid: "0b5d4a8e-3c6f-4d2a-9a51-1f2e3d4c5b6a",
        accel: "tcg",
        vcpus: 1,
        memoryMb: 64,
        qmpSocket: "/run/x/qmp.sock",
        pidfile: "/run/x/qemu.pid",
        disks: [],
        nics: [
          {
            id: "nic0",
            mac: "fa:16:3e:00:00:01",
            backend: {
              type: "user",
              guestForwards: [{ guestAddr: "169.254.169.254", guestPort: 80, command }],
            },
          },
        ],
      });
      assert.ok(args.some((a) => a.includes(`guestfwd=tcp:169.254.169.254:80-cmd:${command.join(" ")}`)));
    }
  });

  for (const variant of ["node", "socat"] as const) {
    // socat is a runtime package (scripts/lib/packages.mjs): under CI its absence fails the test.
    const skip =
      variant === "socat" && !socat && process.env.CI !== "true"
        ? "socat is not installed (node is used then)"
        : false;
    test(
      `${variant}: a request and its answer both ways, the guest closing after or before its answer`,
      { skip },
      async () => {
        // The listener answers and keeps the connection (as the metadata listener does) ...
        const a = await listener(`${variant}-a.sock`, (s) => s.on("data", (d) => s.write(`answer to ${d}`)));
        // ... or answers only once the guest has closed its side (a half-close).
        const b = await listener(`${variant}-b.sock`, (s) => {
          let got = "";
          s.on("data", (d) => (got += d));
          s.on("end", () => s.end(`all of ${got}`));
        });
        try {
          if (variant === "socat") assert.ok(socat, "socat is installed");
          const cmd = (p: string) => metadataForwardCommand(p, variant === "socat" ? socat : null);
          assert.equal(await run(cmd(a.path), "GET /", "answer to GET /", false), "answer to GET /");
          assert.equal(await run(cmd(b.path), "PUT x", "", true), "all of PUT x");
        } finally {
          a.server.close();
          b.server.close();
        }
      },
    );
  }
});

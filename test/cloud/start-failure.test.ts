// A start that fails part way leaves nothing open: the listener it bound is closed again (its port can be taken),
// no server or timer of the cloud keeps the process alive, and the database can be removed. Regression: a start
// that failed after opening its database and listener (tgtd not answering in time, on a loaded CI machine) left them
// open, so the test file that started it never exited.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startCloud } from "../../src/cloud/start.js";
import { loadConfig } from "../../src/shared/config.js";

/** A loopback port nothing listens on now. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });

/** Listening servers of this process (what would keep it from exiting). */
const servers = () => process.getActiveResourcesInfo().filter((r) => r === "TCPServerWrap").length;

test("a start that fails after listening closes its listener, database and timers", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "stratus-start-fail-"));
  try {
    const port = await freePort();
    const before = servers();
    const cfg = loadConfig(
      {
        dataDir,
        host: "127.0.0.1",
        port,
        logLevel: "silent",
        identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
        network: { driver: "noop" },
        volume: { backend: "fake" },
        // Checked only once the main listener is up and every service has started: the failure comes late.
        listeners: { "no-such-service": 0 },
      } as any,
      {},
    );
    await assert.rejects(startCloud(cfg), /listeners: unknown service "no-such-service"/);
    assert.equal(servers(), before, "a listener of the failed start is still open");
    await new Promise<void>((resolve, reject) => {
      const s = createServer().once("error", reject);
      s.listen(port, "127.0.0.1", () => s.close(() => resolve()));
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// Ports for a guest's QEMU (VNC, its websocket, migration, SSH forward) are picked together and differ: picked one
// after another, the VNC and websocket ports once came out equal and QEMU failed to start ("Address already in use").
import assert from "node:assert/strict";
import { test } from "node:test";
import { freePorts } from "../../../../src/compute/drivers/qemu/driver-core.js";

test("freePorts gives distinct loopback ports, all at least the minimum, over many picks", async () => {
  for (let round = 0; round < 200; round++) {
    const ports = await freePorts(4, 5900);
    assert.equal(new Set(ports).size, 4, `round ${round}: ${ports.join(",")}`);
    for (const p of ports) assert.ok(p >= 5900 && p <= 65535, String(p));
  }
});

test("freePorts releases every probe: the ports it gave can be bound again", async () => {
  const { createServer } = await import("node:net");
  for (const port of await freePorts(3)) {
    const s = createServer();
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    await new Promise((r) => s.close(r));
  }
});

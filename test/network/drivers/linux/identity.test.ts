// Pure parts of the linux driver's wiring: a cloud's identity from its data directory, firewall names per tag, the
// per-chain rewrite of the firewall, and the port binding contract with the QEMU driver.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { linuxBinding } from "../../../../src/network/drivers/linux/driver.js";
import {
  bridgeTable,
  groupSet,
  portChains,
  setRe,
  topChains,
} from "../../../../src/network/drivers/linux/firewall-names.js";
import { cloudNetIdentity } from "../../../../src/network/drivers/linux/identity.js";
import { changedChains } from "../../../../src/network/drivers/linux/iptables.js";

describe("linux driver wiring", () => {
  test("a cloud's identity follows its data directory; dnsmasq's directory is traversable", () => {
    const a = cloudNetIdentity("/srv/cloud-a");
    assert.deepEqual(cloudNetIdentity("/srv/cloud-a/"), a);
    assert.notEqual(cloudNetIdentity("/srv/cloud-b").prefix, a.prefix);
    assert.match(a.prefix, /^s[0-9a-f]{8}-$/);
    assert.equal(a.publicNetns, `${a.prefix}public`);
    assert.equal(a.firewallTag, a.prefix.slice(1, 7));
    // Under /tmp itself (world-traversable), not a test runner's private TMPDIR.
    const closed = mkdtempSync("/tmp/stratus-id-");
    try {
      chmodSync(closed, 0o700);
      assert.match(cloudNetIdentity(closed).stateDir, /^\/run\/stratus-[0-9a-f]{8}$/);
      chmodSync(closed, 0o755);
      assert.equal(cloudNetIdentity(closed).stateDir, join(closed, "network"));
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });

  test("firewall names carry the tag; untagged names stay as they were", () => {
    const id = "0123456789abcdef-0123-4567-89ab-cdef01234567";
    assert.equal(topChains().forward, "stratus-FORWARD");
    assert.equal(topChains("ab12cd").forward, "stratus-ab12cd-FORWARD");
    assert.equal(portChains(id, "ab12cd").ingress, "stratus-ab12cd-i0123456789a");
    assert.ok(portChains(id, "ab12cd").ingress.length <= 28);
    assert.equal(groupSet(id, 4), `stv4-${id.slice(0, 26)}`);
    assert.equal(groupSet(id, 6, "ab12cd"), `stv6-ab12cd${id.slice(0, 20)}`);
    assert.ok(groupSet(id, 6, "ab12cd").length <= 31);
    assert.ok(
      setRe("ab12cd").test(groupSet(id, 4, "ab12cd")) && !setRe("ab12cd").test(groupSet(id, 4, "ffffff")),
    );
    assert.equal(bridgeTable("ab12cd"), "stratusab12cd");
    assert.throws(() => topChains("a b"), /not plain/);
  });

  test("only new or changed chains are rewritten", () => {
    const before = {
      chains: ["stratus-a", "stratus-b"],
      rules: ["-A stratus-a -j ACCEPT", "-A stratus-b -j DROP"],
    };
    assert.deepEqual(changedChains(before, before), { chains: [], rules: [] });
    const after = {
      chains: ["stratus-a", "stratus-b", "stratus-c"],
      rules: [
        "-A stratus-a -j ACCEPT",
        "-A stratus-b -p tcp -j RETURN",
        "-A stratus-b -j DROP",
        "-A stratus-c -j DROP",
      ],
    };
    assert.deepEqual(changedChains(after, before), {
      chains: ["stratus-b", "stratus-c"],
      rules: ["-A stratus-b -p tcp -j RETURN", "-A stratus-b -j DROP", "-A stratus-c -j DROP"],
    });
  });

  test("the binding names the tap QEMU opens and the network's bridge", () => {
    const port = "5f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    const net = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";
    assert.deepEqual(linuxBinding(port, net, true), {
      vifType: "tap",
      vifDetails: {
        connectivity: "l2",
        port_filter: true,
        tap_name: "tap5f1e2d3c-4b",
        bridge_name: "brq0a1b2c3d-4e",
      },
    });
    assert.equal(linuxBinding(port, net, false).vifDetails.port_filter, false);
  });
});

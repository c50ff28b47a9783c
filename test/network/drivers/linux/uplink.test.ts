// The operator's opt-in public uplink (network.publicUplink) on a real kernel, with no traffic leaving the machine:
// a lab namespace plays the host, and another plays the world behind the host's "uplink" interface (a veth whose far
// end is in the world namespace, with an address). Off by default: the public namespace has no route out and does
// not forward. Configured: a guest on the public bridge reaches the world, which sees the host's address (NAT).
// Removed at the driver's close and by wipe, restoring the interface's forwarding, with no rule or link left.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../../../src/shared/config.js";
import { LinuxDriver } from "../../../../src/network/drivers/linux/driver.js";
import { run } from "../../../../src/network/drivers/linux/exec.js";
import type { LinuxHost } from "../../../../src/network/drivers/linux/host.js";
import { ensureVeth, getLink } from "../../../../src/network/drivers/linux/ip.js";
import { ensureAddresses, listRoutes } from "../../../../src/network/drivers/linux/ip-addr.js";
import { ensureNamespace } from "../../../../src/network/drivers/linux/ip-netns.js";
import { bridgeName } from "../../../../src/network/drivers/linux/names.js";
import { UPLINK_PEER, uplinkNames } from "../../../../src/network/drivers/linux/uplink.js";
import type { ExternalNetworkSpec } from "../../../../src/network/drivers/types.js";
import { Lab, SKIP_KERNEL, type Guest } from "./lab.js";

const WORLD_IP = "198.51.100.2";
const HOST_IP = "198.51.100.1";
const IFACE = "world0";

describe(
  "linux data plane: the opt-in public uplink (real kernel, lab namespaces only)",
  { skip: SKIP_KERNEL },
  () => {
    const lab = new Lab();
    let host: LinuxHost;
    let world: string;
    let guest: Guest;
    let ext: ExternalNetworkSpec;
    const drivers: LinuxDriver[] = [];
    const driver = (uplink: boolean) => {
      const d = new LinuxDriver({
        prefix: `${lab.prefix}-h-`,
        stateDir: host.stateDir,
        hostNetns: host.netns,
        firewallTag: lab.marker,
        ...(uplink ? { publicUplink: { interface: IFACE } } : {}),
      });
      drivers.push(d);
      return d;
    };
    const forwarding = async () =>
      (await run(["sysctl", "-n", `net.ipv4.conf.${IFACE}.forwarding`], { netns: host.netns })).stdout.trim();
    const hostRules = async () =>
      (await run(["iptables-save"], { netns: host.netns })).stdout
        .split("\n")
        .filter((l) => l.includes("uplink"));

    before(async () => {
      host = await lab.host("h");
      world = lab.ns("world");
      await ensureNamespace(world);
      await ensureVeth(host.netns, { name: IFACE, peerName: "eth0", peerNetns: world, mtu: 1500 });
      await ensureAddresses(host.netns, IFACE, [`${HOST_IP}/24`]);
      await ensureAddresses(world, "eth0", [`${WORLD_IP}/24`]);
      const netId = lab.id("pub");
      ext = {
        network: {
          id: netId,
          mtu: 1500,
          adminStateUp: true,
          segment: { networkType: "flat", physicalNetwork: "public", segmentationId: null },
          external: true,
        },
        gatewayCidrs: ["172.24.4.1/24"],
      };
      const d = driver(false);
      await d.init("h");
      await d.routing.ensureExternal([ext]);
      const pub = d.publicNetns;
      guest = await lab.guest(
        "g",
        { ...host, netns: pub },
        bridgeName(netId),
        lab.id("port"),
        "fa:16:3e:00:00:10",
      );
      await guest.address(["172.24.4.10/24"], "172.24.4.1");
      await lab.serve(world, 8080, "world");
    });

    after(async () => {
      for (const d of drivers) await d.wipe().catch(() => undefined);
      await lab.close();
      await lab.assertClean();
    });

    it("is off by default: no route out of the public namespace, no forwarding, the world unreachable", async () => {
      const pub = drivers[0].publicNetns;
      assert.ok(await guest.ping("172.24.4.1"), "the guest does not reach the public gateway");
      assert.deepEqual(
        (await listRoutes(pub, 4)).filter((r) => r.dst === "default"),
        [],
      );
      assert.equal((await run(["sysctl", "-n", "net.ipv4.ip_forward"], { netns: pub })).stdout.trim(), "0");
      assert.equal(await getLink(pub, UPLINK_PEER), null);
      assert.equal(await getLink(host.netns, uplinkNames(lab.marker).hostEnd), null);
      assert.ok(await guest.pingFails(WORLD_IP));
      assert.deepEqual(await hostRules(), []);
      assert.equal(await forwarding(), "0");
      assert.equal(
        loadConfig({ dataDir: lab.dir }, {}).network.publicUplink,
        null,
        "off in the default config",
      );
    });

    it("configured: the public namespace routes out through the interface, NATed; close removes it all", async () => {
      const wrong = new LinuxDriver({
        prefix: `${lab.prefix}-x-`,
        stateDir: host.stateDir,
        publicUplink: { interface: "nosuch0" },
      });
      await assert.rejects(wrong.init("h"), /interface nosuch0 does not exist/);
      const d = driver(true);
      await d.init("h");
      await d.routing.ensureExternal([ext]);
      assert.ok(await guest.ping(WORLD_IP), "the guest on public does not reach the world");
      const greeting = await guest.probe(WORLD_IP, 8080);
      assert.equal(greeting, `world ${HOST_IP}`, "the world sees the host's address (masquerade)");
      assert.equal(await forwarding(), "1");
      assert.equal((await hostRules()).length, 3);
      // Ensured again: nothing is added twice.
      await d.routing.ensureExternal([ext]);
      assert.equal((await hostRules()).length, 3);
      assert.ok(existsSync(join(host.stateDir, "uplink.json")));

      await d.close();
      assert.deepEqual(await hostRules(), []);
      assert.equal(await forwarding(), "0", "the interface's forwarding restored");
      assert.equal(await getLink(host.netns, uplinkNames(lab.marker).hostEnd), null);
      assert.equal(await getLink(d.publicNetns, UPLINK_PEER), null);
      assert.ok(!existsSync(join(host.stateDir, "uplink.json")));
      const fwd = await run(["sysctl", "-n", "net.ipv4.ip_forward"], { netns: d.publicNetns });
      assert.equal(fwd.stdout.trim(), "0", "the public namespace forwards no more");
      assert.ok(await guest.pingFails(WORLD_IP));
    });

    it("wipe removes it too (with no configuration), and a driver without it removes one left behind", async () => {
      const d = driver(true);
      await d.routing.ensureExternal([ext]);
      assert.ok(await guest.ping(WORLD_IP));
      // The option dropped from the config: the next reconcile removes the uplink.
      await driver(false).routing.ensureExternal([ext]);
      assert.deepEqual(await hostRules(), []);
      assert.ok(await guest.pingFails(WORLD_IP));
      await d.routing.ensureExternal([ext]);
      assert.equal((await hostRules()).length, 3);
      const done = await driver(false).wipe();
      assert.ok(done.includes("public uplink"), done.join(", "));
      assert.deepEqual(await hostRules(), []);
      assert.equal(await forwarding(), "0");
      assert.equal(await getLink(host.netns, uplinkNames(lab.marker).hostEnd), null);
    });
  },
);

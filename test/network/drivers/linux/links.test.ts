// The iproute2 wrappers on a real kernel: taps for QEMU, veth pairs across namespaces, addresses and routes, all
// ensured again without touching what is already right (same interface index: nothing was recreated).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { LinuxHost } from "../../../../src/network/drivers/linux/host.js";
import { ensureBridge, ensureVeth, getLink } from "../../../../src/network/drivers/linux/ip.js";
import {
  ensureAddresses,
  ensureRoute,
  listAddresses,
  listRoutes,
} from "../../../../src/network/drivers/linux/ip-addr.js";
import type { NetworkSpec } from "../../../../src/network/drivers/linux/model.js";
import { bridgeName, tapName } from "../../../../src/network/drivers/linux/names.js";
import { ensureNetwork, plugTap, unplugTap } from "../../../../src/network/drivers/linux/network.js";
import { run } from "../../../../src/network/drivers/linux/exec.js";
import { deleteNamespace, ensureNamespace } from "../../../../src/network/drivers/linux/ip-netns.js";
import { Lab, SKIP_KERNEL } from "./lab.js";

describe("linux data plane: links, addresses and routes (real kernel)", { skip: SKIP_KERNEL }, () => {
  const lab = new Lab();
  let host: LinuxHost;
  let net: NetworkSpec;

  before(async () => {
    host = await lab.host("h");
    net = { id: lab.id("n"), mtu: 1450, segmentation: "local" };
  });

  after(async () => {
    await lab.close();
    await lab.assertClean();
  });

  it("a VM port's tap is a persistent single-queue tap owned by QEMU's user, in the bridge, with the MTU", async () => {
    await ensureNetwork(host, net);
    const portId = lab.id("p");
    assert.equal(await plugTap(host, net, portId, 65534), tapName(portId));
    const tap = await getLink(host.netns, tapName(portId));
    assert.equal(tap?.linkinfo?.info_kind, "tun");
    assert.deepEqual(
      { ...tap?.linkinfo?.info_data },
      { ...tap?.linkinfo?.info_data, type: "tap", multi_queue: false, persist: true },
    );
    assert.ok(
      [65534, "nobody"].includes(tap?.linkinfo?.info_data?.user as string),
      "owned by the given user",
    );
    assert.equal(tap?.master, bridgeName(net.id));
    assert.equal(tap?.mtu, 1450);
    const ipv6 = await run(["sysctl", "-n", `net.ipv6.conf.${tapName(portId)}.disable_ipv6`], {
      netns: host.netns,
    });
    assert.equal(ipv6.stdout.trim(), "1", "the host has no address on a tenant network");
    await plugTap(host, net, portId, 65534);
    assert.equal(
      (await getLink(host.netns, tapName(portId)))?.ifindex,
      tap?.ifindex,
      "ensured again: not recreated",
    );
    // admin_state_up false takes the tap down (tempest's test_update_instance_port_admin_state), true up again.
    await plugTap(host, net, portId, 65534, false);
    assert.ok(!(await getLink(host.netns, tapName(portId)))?.flags.includes("UP"), "down");
    await plugTap(host, net, portId, 65534, true);
    const up = await getLink(host.netns, tapName(portId));
    assert.ok(up?.flags.includes("UP"), "up again");
    assert.equal(up?.ifindex, tap?.ifindex, "not recreated");
    await unplugTap(host, portId);
    assert.equal(await getLink(host.netns, tapName(portId)), null);
  });

  it("a veth pair across namespaces is ensured again without being recreated, and repaired when half gone", async () => {
    const other = lab.ns("o");
    await lab.host("o");
    const spec = {
      name: "vtest0",
      peerName: "vtest1",
      peerNetns: other,
      mtu: 1400,
      master: bridgeName(net.id),
      peerMac: "fa:16:3e:09:00:01",
    };
    await ensureVeth(host.netns, spec);
    const near = await getLink(host.netns, "vtest0");
    const far = await getLink(other, "vtest1");
    assert.equal(far?.address, "fa:16:3e:09:00:01");
    assert.equal(near?.master, bridgeName(net.id));
    await ensureVeth(host.netns, spec);
    assert.equal((await getLink(host.netns, "vtest0"))?.ifindex, near?.ifindex);
    assert.equal((await getLink(other, "vtest1"))?.ifindex, far?.ifindex);
    await run(["ip", "link", "set", "dev", "vtest0", "nomaster"], { netns: host.netns });
    await ensureVeth(host.netns, spec);
    assert.equal(
      (await getLink(host.netns, "vtest0"))?.master,
      bridgeName(net.id),
      "drift is repaired in place",
    );
    await run(["ip", "link", "del", "vtest1"], { netns: other });
    await ensureVeth(host.netns, spec);
    assert.ok(await getLink(other, "vtest1"), "a missing half is recreated");
  });

  it("deleting a namespace takes its veths' other ends at once (the kernel would drop them later)", async () => {
    // Several rounds: the kernel's own clean-up of a deleted namespace is asynchronous and usually lags a little.
    for (let i = 0; i < 5; i++) {
      const gone = lab.ns(`gone${i}`);
      await ensureNamespace(gone);
      await ensureVeth(host.netns, { name: `vgone${i}`, peerName: "inside", peerNetns: gone, mtu: 1450 });
      assert.ok(await getLink(host.netns, `vgone${i}`));
      assert.equal(await deleteNamespace(gone), true);
      assert.equal(await getLink(host.netns, `vgone${i}`), null, `round ${i}: the outside end is gone`);
    }
  });

  it("a device is given exactly its addresses; routes are replaced and listed by protocol", async () => {
    await ensureBridge(host.netns, "brtest", 1500);
    await ensureAddresses(host.netns, "brtest", ["10.209.0.1/24", "fd00:209::1/64"]);
    assert.deepEqual((await listAddresses(host.netns, "brtest")).sort(), ["10.209.0.1/24", "fd00:209::1/64"]);
    const added = await ensureAddresses(host.netns, "brtest", ["10.209.0.2/24"]);
    assert.deepEqual(added, ["10.209.0.2/24"]);
    assert.deepEqual(await listAddresses(host.netns, "brtest"), ["10.209.0.2/24"]);
    assert.deepEqual(await ensureAddresses(host.netns, "brtest", ["10.209.0.2/24"]), []);
    await ensureRoute(host.netns, { destination: "10.99.0.0/16", via: "10.209.0.254", proto: "static" });
    await ensureRoute(host.netns, { destination: "10.99.0.0/16", via: "10.209.0.254", proto: "static" });
    const routes = await listRoutes(host.netns, 4, "static");
    assert.deepEqual(
      routes.map((r) => [r.dst, r.gateway]),
      [["10.99.0.0/16", "10.209.0.254"]],
    );
  });
});

// The metadata path against the real metadata service: an in-process cloud (fake compute, noop network driver), a
// server with a fixed IP on the demo project's private network, a guest namespace holding that address behind a
// veth to a namespace with 169.254.169.254/32 where the proxy runs, and the host-side agent looking the caller up in
// the network database and signing with the cloud's metadata secret. The guest reads its own meta_data.json; an
// address of a port no instance owns, and an address no port holds, get 404.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureVeth } from "../../../src/network/drivers/linux/ip.js";
import { ensureAddresses, ensureRoute } from "../../../src/network/drivers/linux/ip-addr.js";
import { ensureNamespace } from "../../../src/network/drivers/linux/ip-netns.js";
import { portCallerLookup } from "../../../src/network/metadata/lookup.js";
import { createMetadataProxies, type MetadataProxies } from "../../../src/network/metadata/proxies.js";
import { bootCompute, type ComputeCloud } from "../../compute/api/helpers.js";
import { Lab, SKIP_KERNEL } from "../drivers/linux/lab.js";
import { curl } from "./guest.js";

const URL_MD = "http://169.254.169.254/openstack/latest/meta_data.json";

describe("metadata proxy to the cloud's metadata service (real kernel)", { skip: SKIP_KERNEL }, () => {
  const lab = new Lab();
  const dhcpNs = lab.ns("qdhcp");
  const guestNs = lab.ns("guest");
  let c: ComputeCloud;
  let proxies: MetadataProxies | undefined;
  let privateNet = "";
  let serverId = "";

  const net = async (method: string, path: string, body?: unknown) => {
    const r = await c.t.cloud.app.inject({
      method: method as "GET",
      url: `/networking/v2.0${path}`,
      headers: { "x-auth-token": c.admin, "content-type": "application/json" },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: r.statusCode, body: r.payload ? JSON.parse(r.payload) : undefined, text: r.payload };
  };

  before(async () => {
    c = await bootCompute();
    const nets = (await net("GET", "/networks")).body.networks as Array<{ id: string; name: string }>;
    privateNet = nets.find((n) => n.name === "private")!.id;
    serverId = await c.createServer(c.demo, {
      name: "md-guest",
      networks: [{ uuid: privateNet, fixed_ip: "10.0.0.20" }],
    });
    await c.waitStatus(c.demo, serverId, "ACTIVE");
    // A port holding 10.0.0.21 that no instance owns.
    const p = await net("POST", "/ports", {
      port: { network_id: privateNet, fixed_ips: [{ ip_address: "10.0.0.21" }] },
    });
    assert.equal(p.status, 201, p.text);

    await ensureNamespace(dhcpNs);
    await ensureNamespace(guestNs);
    await ensureVeth(dhcpNs, { name: "ns-md0", peerName: "eth0", peerNetns: guestNs, mtu: 1500 });
    await ensureAddresses(dhcpNs, "ns-md0", ["10.0.0.62/26", "169.254.169.254/32"]);
    await ensureAddresses(guestNs, "eth0", ["10.0.0.20/26", "10.0.0.21/26", "10.0.0.22/26"]);
    await ensureRoute(guestNs, { destination: "169.254.169.254/32", via: "10.0.0.62" });
    const state = join(lab.dir, "state");
    proxies = createMetadataProxies({
      stateDir: state,
      socketPath: join(state, "metadata", "agent.sock"),
      log: c.t.cloud.log,
      agent: { lookup: portCallerLookup(c.t.cloud.network.core), target: () => c.t.cloud.metadata },
    });
    await proxies.ensure(privateNet, dhcpNs);
  });

  after(async () => {
    try {
      await proxies?.remove(privateNet);
      await proxies?.close();
      await c?.close();
    } finally {
      await lab.close();
    }
    await lab.assertClean();
  });

  it("the guest reads its own metadata, signed by the agent and checked by the metadata service", async () => {
    const r = await curl(guestNs, URL_MD, ["--interface", "10.0.0.20", "-H", "X-Instance-ID: nobody-else"]);
    assert.equal(r.status, 200, r.body);
    const doc = JSON.parse(r.body);
    assert.equal(doc.uuid, serverId);
    assert.equal(doc.name, "md-guest");
    const ec2 = await curl(guestNs, "http://169.254.169.254/latest/meta-data/local-ipv4", [
      "--interface",
      "10.0.0.20",
    ]);
    assert.equal(ec2.status, 200, ec2.body);
    assert.equal(ec2.body, "10.0.0.20");
  });

  it("a port no instance owns, and an address no port holds, get 404", async () => {
    for (const ip of ["10.0.0.21", "10.0.0.22"]) {
      const r = await curl(guestNs, URL_MD, ["--interface", ip]);
      assert.equal(r.status, 404, `${ip}: ${r.body}`);
      assert.equal(r.body, "404 The resource could not be found.\n");
    }
  });
});

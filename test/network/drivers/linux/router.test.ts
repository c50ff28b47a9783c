// Routers on a real kernel: a tenant network in a namespace playing the host, the public network as a bridge inside
// its own namespace (public.ts), a router namespace between them with SNAT and floating IPs, and traffic checked
// between guests and the public namespace.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { run, runObservers } from "../../../../src/network/drivers/linux/exec.js";
import type { LinuxHost } from "../../../../src/network/drivers/linux/host.js";
import { getLink } from "../../../../src/network/drivers/linux/ip.js";
import { namespaceExists } from "../../../../src/network/drivers/linux/ip-netns.js";
import type { NetworkSpec, RouterSpec } from "../../../../src/network/drivers/linux/model.js";
import { bridgeName, tapName } from "../../../../src/network/drivers/linux/names.js";
import { ensureNetwork, removeNetwork } from "../../../../src/network/drivers/linux/network.js";
import { ensurePublic, publicExec, removePublic } from "../../../../src/network/drivers/linux/public.js";
import {
  ensureRouter,
  removeRouter,
  routerNs,
  type BridgeRef,
} from "../../../../src/network/drivers/linux/router.js";
import { BLOCKED_MS, Lab, SKIP_KERNEL, type Guest } from "./lab.js";

describe("linux data plane: routers, SNAT and floating IPs (real kernel)", { skip: SKIP_KERNEL }, () => {
  const lab = new Lab();
  let host: LinuxHost;
  let net: NetworkSpec;
  let pub: BridgeRef;
  let router: RouterSpec;
  let publicNs: string;
  const g: Guest[] = [];
  const guestIp = (i: number) => `10.205.0.1${i}`;
  const fromPublic = (ip: string) => lab.probe(publicNs, ip, 22);
  const publicBlocked = async (ip: string) => (await lab.probe(publicNs, ip, 22, BLOCKED_MS)) === null;

  before(async () => {
    host = await lab.host("h");
    net = { id: lab.id("n"), mtu: 1500, segmentation: "local" };
    await ensureNetwork(host, net);
    publicNs = lab.ns("public");
    pub = await ensurePublic({
      networkId: lab.id("pub"),
      mtu: 1500,
      gatewayCidrs: ["172.30.4.1/24"],
      netns: publicNs,
    });
    await lab.serve(publicNs, 80, "public");
    for (const i of [0, 1]) {
      const portId = lab.id(`p${i}`);
      const guest = await lab.guest(`g${i}`, host, bridgeName(net.id), portId, `fa:16:3e:05:00:1${i}`);
      await guest.address([`${guestIp(i)}/24`], "10.205.0.1");
      await guest.serve(22, `g${i}`);
      g.push(guest);
    }
    router = {
      id: lab.id("r"),
      interfaces: [
        {
          portId: lab.id("qr"),
          networkId: net.id,
          mac: "fa:16:3e:05:00:01",
          addresses: ["10.205.0.1/24"],
          mtu: 1500,
        },
      ],
      gateway: {
        portId: lab.id("qg"),
        networkId: "public",
        mac: "fa:16:3e:05:01:0a",
        addresses: ["172.30.4.10/24"],
        gatewayIp: "172.30.4.1",
        enableSnat: true,
        mtu: 1500,
      },
      routes: [],
      floatingIps: [],
    };
  });

  after(async () => {
    await removeRouter(host, router.id);
    await removePublic(publicNs);
    await removeNetwork(host, net);
    await lab.close();
    await lab.assertClean();
  });

  it("without a router a guest reaches nothing beyond its network (control)", async () => {
    assert.ok(await g[0].pingFails("10.205.0.1"));
    assert.ok(await g[0].cannotReach("172.30.4.1", 80));
    await g[0].exec(["ip", "neigh", "flush", "dev", "eth0"]); // forget the failed resolution of the router
  });

  it("guests reach their router, and the public network through SNAT to the router's external address", async () => {
    await ensureRouter(host, router, pub);
    assert.ok(await g[0].ping("10.205.0.1"), "guest -> router");
    assert.ok(await g[0].ping("172.30.4.1"), "guest -> public gateway");
    assert.equal(await g[0].probe("172.30.4.1", 80), "public 172.30.4.10");
    const r = await publicExec(["busybox", "ping", "-c", "1", "-W", "2", "172.30.4.10"], { netns: publicNs });
    assert.equal(r.code, 0, "public-exec reaches the router's external address");
  });

  it("without SNAT the public side cannot answer a guest", async () => {
    await ensureRouter(host, { ...router, gateway: { ...router.gateway!, enableSnat: false } }, pub);
    assert.ok(await g[0].cannotReach("172.30.4.1", 80));
    await ensureRouter(host, router, pub);
    assert.equal(await g[0].probe("172.30.4.1", 80), "public 172.30.4.10");
  });

  it("a floating IP lets the public namespace reach the guest, which leaves by it; hairpin works", async () => {
    assert.ok(await publicBlocked("172.30.4.20"), "control: no floating IP yet");
    router = {
      ...router,
      floatingIps: [{ id: "f1", floatingIp: "172.30.4.20", fixedIp: guestIp(0), portId: "p0" }],
    };
    const ran: string[] = [];
    const observe = (argv: readonly string[], input?: string) =>
      void ran.push(`${argv.join(" ")}${input ? `\n${input}` : ""}`);
    runObservers.add(observe);
    try {
      await ensureRouter(host, router, pub);
    } finally {
      runObservers.delete(observe);
    }
    // Its DNAT exists before its address: never a moment when the router itself answers for the floating IP.
    const nat = ran.findIndex(
      (c) => /iptables-restore/.test(c) && /^\*nat$/m.test(c) && c.includes("172.30.4.20"),
    );
    const addr = ran.findIndex((c) => / addr (add|replace) 172\.30\.4\.20\/32 /.test(c));
    assert.ok(nat !== -1 && addr !== -1, `commands run:\n${ran.join("\n")}`);
    assert.ok(nat < addr, `the floating IP's address came before its NAT:\n${ran.join("\n")}`);
    assert.equal(await fromPublic("172.30.4.20"), "g0 172.30.4.1");
    assert.equal(await g[0].probe("172.30.4.1", 80), "public 172.30.4.20");
    assert.equal(
      await g[1].probe("172.30.4.1", 80),
      "public 172.30.4.10",
      "the other guest still leaves by SNAT",
    );
    assert.equal(
      await g[1].probe("172.30.4.20", 22),
      "g0 172.30.4.10",
      "guest -> a floating IP on its own router",
    );
  });

  it("removing the floating IP cuts its open connection and new ones; reassigning it reaches the other guest", async () => {
    const session = await lab.session(publicNs, "172.30.4.20", 22);
    session.send("hello");
    assert.ok(await session.received("hello"));
    const withFip = router;
    router = { ...router, floatingIps: [] };
    await ensureRouter(host, router, pub);
    session.send("still there?");
    assert.ok(await session.silent("still there?"));
    session.child.kill();
    assert.ok(await publicBlocked("172.30.4.20"));
    router = { ...withFip, floatingIps: [{ ...withFip.floatingIps[0], fixedIp: guestIp(1), portId: "p1" }] };
    await ensureRouter(host, router, pub);
    assert.equal(await fromPublic("172.30.4.20"), "g1 172.30.4.1");
  });

  it("static routes are added and removed", async () => {
    const ns = routerNs(host, router.id);
    const routes = async () => (await run(["ip", "route", "show", "proto", "static"], { netns: ns })).stdout;
    await ensureRouter(
      host,
      { ...router, routes: [{ destination: "10.250.0.0/24", nexthop: guestIp(1) }] },
      pub,
    );
    assert.match(await routes(), /10\.250\.0\.0\/24 via 10\.205\.0\.11/);
    await ensureRouter(host, router, pub);
    assert.equal((await routes()).trim(), "");
  });

  it("ensuring the same router again changes nothing", async () => {
    const ns = routerNs(host, router.id);
    const snapshot = async () => {
      const out = await Promise.all([
        run(["ip", "link", "show"], { netns: ns }),
        run(["ip", "addr", "show"], { netns: ns }),
        run(["ip", "route", "show"], { netns: ns }),
        run(["iptables-save", "-t", "nat"], { netns: ns }),
        run(["ip", "link", "show"], { netns: host.netns }),
      ]);
      return out.map((r) => r.stdout.replace(/^#.*$/gm, "").replace(/\[\d+:\d+\]/g, ""));
    };
    const before = await snapshot();
    await ensureRouter(host, router, pub);
    assert.deepEqual(await snapshot(), before);
  });

  it("removing the router leaves no namespace and no port on either bridge", async () => {
    await removeRouter(host, router.id);
    assert.equal(await namespaceExists(routerNs(host, router.id)), false);
    assert.equal(await getLink(host.netns, tapName(router.interfaces[0].portId)), null);
    assert.equal(await getLink(publicNs, tapName(router.gateway!.portId)), null);
    assert.ok(await g[0].pingFails("10.205.0.1"));
  });
});

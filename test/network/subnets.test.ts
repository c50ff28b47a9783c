// Subnets: defaults (gateway, pools), IPv6 modes, checks on pools, gateways, DNS servers and host routes,
// overlaps, updates, the owner-only rule, deletion while in use, and subnet pools.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

describe("subnets and subnet pools", () => {
  let c: NetCloud;
  let net: string;
  before(async () => {
    c = await bootNetwork();
    net = (await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "s-net" } } }))
      .network.id;
  });
  after(() => c?.close());

  const create = (body: Record<string, unknown>, token?: string) =>
    c.req("POST", "/v2.0/subnets", {
      token: token ?? c.demo,
      body: { subnet: { network_id: net, ...body } },
    });

  test("IPv4 defaults: gateway .1, one pool of the rest, DHCP on; host bits are cleared", async () => {
    const r = await create({ ip_version: 4, cidr: "10.1.0.5/24", name: "v4" });
    assert.equal(r.status, 201, r.text);
    const s = r.body.subnet;
    assert.equal(s.cidr, "10.1.0.0/24");
    assert.equal(s.gateway_ip, "10.1.0.1");
    assert.deepEqual(s.allocation_pools, [{ start: "10.1.0.2", end: "10.1.0.254" }]);
    assert.equal(s.enable_dhcp, true);
    assert.deepEqual(s.dns_nameservers, []);
    assert.equal(s.project_id, c.demoProject);
    const n = (await c.ok("GET", `/v2.0/networks/${net}`, 200)).network;
    assert.ok(n.subnets.includes(s.id));
  });

  test("a gateway in the middle splits the default pool; no gateway; explicit pools and their checks", async () => {
    const mid = (await create({ ip_version: 4, cidr: "10.2.0.0/28", gateway_ip: "10.2.0.7" })).body.subnet;
    assert.deepEqual(mid.allocation_pools, [
      { start: "10.2.0.1", end: "10.2.0.6" },
      { start: "10.2.0.8", end: "10.2.0.14" },
    ]);
    const none = (await create({ ip_version: 4, cidr: "10.3.0.0/29", gateway_ip: null })).body.subnet;
    assert.equal(none.gateway_ip, null);
    assert.deepEqual(none.allocation_pools, [{ start: "10.3.0.1", end: "10.3.0.6" }]);
    const pools = [{ start: "10.4.0.10", end: "10.4.0.20" }];
    assert.deepEqual(
      (await create({ ip_version: 4, cidr: "10.4.0.0/24", allocation_pools: pools })).body.subnet
        .allocation_pools,
      pools,
    );
    neutronError(
      await create({
        ip_version: 4,
        cidr: "10.5.0.0/24",
        allocation_pools: [{ start: "10.5.0.1", end: "10.5.0.9" }],
      }),
      409,
      "GatewayConflictWithAllocationPools",
    );
    neutronError(
      await create({
        ip_version: 4,
        cidr: "10.5.0.0/24",
        allocation_pools: [{ start: "10.5.1.1", end: "10.5.1.9" }],
      }),
      400,
      "OutOfBoundsAllocationPool",
    );
    neutronError(
      await create({
        ip_version: 4,
        cidr: "10.5.0.0/24",
        allocation_pools: [
          { start: "10.5.0.10", end: "10.5.0.20" },
          { start: "10.5.0.15", end: "10.5.0.30" },
        ],
      }),
      400,
      "OverlappingAllocationPools",
    );
    neutronError(
      await create({
        ip_version: 4,
        cidr: "10.5.0.0/24",
        allocation_pools: [{ start: "10.5.0.20", end: "10.5.0.10" }],
      }),
      400,
      "InvalidAllocationPool",
    );
    neutronError(
      await create({ ip_version: 4, cidr: "10.5.0.0/24", gateway_ip: "10.5.0.255" }),
      400,
      "InvalidInput",
    );
  });

  test("bad values: version mismatch, overlap, malformed prefixes and addresses, limits on DNS and routes", async () => {
    neutronError(await create({ ip_version: 6, cidr: "10.6.0.0/24" }), 400, "InvalidInput");
    neutronError(await create({ ip_version: 4, cidr: "10.1.0.128/25" }), 400, "InvalidInput");
    neutronError(await create({ ip_version: 4, cidr: "10.6.0.0" }), 400, "HTTPBadRequest");
    neutronError(await create({ ip_version: 4, cidr: "010.6.0.0/24" }), 400, "HTTPBadRequest");
    neutronError(await create({ ip_version: 4, cidr: "10.6.0.0/33" }), 400, "HTTPBadRequest");
    neutronError(await create({ ip_version: 5, cidr: "10.6.0.0/24" }), 400);
    neutronError(await create({ ip_version: 4 }), 400, "BadRequest");
    neutronError(
      await create({ ip_version: 4, cidr: "10.6.0.0/24", dns_nameservers: ["8.8.8.8", "8.8.8.8"] }),
      400,
    );
    neutronError(
      await create({
        ip_version: 4,
        cidr: "10.6.0.0/24",
        dns_nameservers: ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5", "1.1.1.6"],
      }),
      400,
      "DNSNameServersExhausted",
    );
    neutronError(
      await create({
        ip_version: 4,
        cidr: "10.6.0.0/24",
        host_routes: [{ destination: "10.9.0.0/16", nexthop: "::1" }],
      }),
      400,
      "InvalidInput",
    );
    neutronError(await create({ ip_version: 4, cidr: "10.6.0.0/24", gateway_ip: "not-an-ip" }), 400);
    const ok = await create({
      ip_version: 4,
      cidr: "10.6.0.0/24",
      dns_nameservers: ["8.8.8.8", "1.1.1.1"],
      host_routes: [{ destination: "10.9.0.0/16", nexthop: "10.6.0.254" }],
    });
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual(ok.body.subnet.dns_nameservers, ["8.8.8.8", "1.1.1.1"]);
    assert.deepEqual(ok.body.subnet.host_routes, [{ destination: "10.9.0.0/16", nexthop: "10.6.0.254" }]);
  });

  test("IPv6: SLAAC needs a /64 and both modes alike; ports get EUI-64 addresses; DHCPv6-stateful allocates", async () => {
    neutronError(
      await create({
        ip_version: 6,
        cidr: "2001:db8:1::/48",
        ipv6_address_mode: "slaac",
        ipv6_ra_mode: "slaac",
      }),
      400,
      "InvalidInput",
    );
    neutronError(
      await create({
        ip_version: 6,
        cidr: "2001:db8:1::/64",
        ipv6_address_mode: "slaac",
        ipv6_ra_mode: "dhcpv6-stateful",
      }),
      400,
      "InvalidInput",
    );
    neutronError(
      await create({ ip_version: 4, cidr: "10.7.0.0/24", ipv6_address_mode: "slaac" }),
      400,
      "InvalidInput",
    );
    const v6net = (
      await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "v6" } } })
    ).network.id;
    const slaac = (
      await c.ok("POST", "/v2.0/subnets", 201, {
        token: c.demo,
        body: {
          subnet: {
            network_id: v6net,
            ip_version: 6,
            cidr: "2001:DB8:1:0::/64",
            ipv6_address_mode: "slaac",
            ipv6_ra_mode: "slaac",
          },
        },
      })
    ).subnet;
    assert.equal(slaac.cidr, "2001:db8:1::/64");
    assert.equal(slaac.gateway_ip, "2001:db8:1::1");
    assert.deepEqual(slaac.allocation_pools, [
      { start: "2001:db8:1::2", end: "2001:db8:1:0:ffff:ffff:ffff:ffff" },
    ]);
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, {
        token: c.demo,
        body: { port: { network_id: v6net, mac_address: "fa:16:3e:12:34:56" } },
      })
    ).port;
    assert.deepEqual(port.fixed_ips, [
      { subnet_id: slaac.id, ip_address: "2001:db8:1:0:f816:3eff:fe12:3456" },
    ]);
    neutronError(
      await c.req("POST", "/v2.0/ports", {
        token: c.demo,
        body: {
          port: { network_id: v6net, fixed_ips: [{ subnet_id: slaac.id, ip_address: "2001:db8:1::99" }] },
        },
      }),
      400,
      "InvalidInput",
    );
    const stateful = (
      await c.ok("POST", "/v2.0/subnets", 201, {
        token: c.demo,
        body: {
          subnet: {
            network_id: v6net,
            ip_version: 6,
            cidr: "2001:db8:2::/64",
            ipv6_address_mode: "dhcpv6-stateful",
          },
        },
      })
    ).subnet;
    const both = (
      await c.ok("POST", "/v2.0/ports", 201, { token: c.demo, body: { port: { network_id: v6net } } })
    ).port;
    assert.deepEqual(
      both.fixed_ips.map((f: { subnet_id: string }) => f.subnet_id).sort(),
      [slaac.id, stateful.id].sort(),
    );
    // Deleting a SLAAC subnet removes its addresses from ports instead of refusing.
    assert.equal((await c.req("DELETE", `/v2.0/subnets/${slaac.id}`, { token: c.demo })).status, 204);
    const after = (await c.ok("GET", `/v2.0/ports/${both.id}`, 200)).port;
    assert.deepEqual(
      after.fixed_ips.map((f: { subnet_id: string }) => f.subnet_id),
      [stateful.id],
    );
    neutronError(
      await c.req("DELETE", `/v2.0/subnets/${stateful.id}`, { token: c.demo }),
      409,
      "SubnetInUse",
    );
  });

  test("update: name, pools, gateway (not one a port holds), DNS; read-only attributes refused", async () => {
    const s = (await create({ ip_version: 4, cidr: "10.8.0.0/24", name: "upd" })).body.subnet;
    const u = (
      await c.ok("PUT", `/v2.0/subnets/${s.id}`, 200, {
        token: c.demo,
        body: {
          subnet: {
            name: "upd2",
            dns_nameservers: ["9.9.9.9"],
            allocation_pools: [{ start: "10.8.0.100", end: "10.8.0.200" }],
          },
        },
      })
    ).subnet;
    assert.equal(u.name, "upd2");
    assert.deepEqual(u.dns_nameservers, ["9.9.9.9"]);
    assert.deepEqual(u.allocation_pools, [{ start: "10.8.0.100", end: "10.8.0.200" }]);
    assert.equal(u.revision_number, 2);
    neutronError(
      await c.req("PUT", `/v2.0/subnets/${s.id}`, {
        token: c.demo,
        body: { subnet: { cidr: "10.9.0.0/24" } },
      }),
      400,
      "HTTPBadRequest",
    );
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, {
        token: c.demo,
        body: { port: { network_id: net, fixed_ips: [{ subnet_id: s.id, ip_address: "10.8.0.50" }] } },
      })
    ).port;
    neutronError(
      await c.req("PUT", `/v2.0/subnets/${s.id}`, {
        token: c.demo,
        body: { subnet: { gateway_ip: "10.8.0.50" } },
      }),
      409,
      "GatewayIpInUse",
    );
    neutronError(await c.req("DELETE", `/v2.0/subnets/${s.id}`, { token: c.demo }), 409, "SubnetInUse");
    assert.equal((await c.req("DELETE", `/v2.0/ports/${port.id}`, { token: c.demo })).status, 204);
    assert.equal((await c.req("DELETE", `/v2.0/subnets/${s.id}`, { token: c.demo })).status, 204);
  });

  test("only the network's owner or an admin makes subnets on it, even a shared one", async () => {
    const shared = (
      await c.ok("POST", "/v2.0/networks", 201, { body: { network: { name: "shared-s", shared: true } } })
    ).network.id;
    const r = await c.req("POST", "/v2.0/subnets", {
      token: c.demo,
      body: { subnet: { network_id: shared, ip_version: 4, cidr: "10.11.0.0/24" } },
    });
    neutronError(r, 403, "PolicyNotAuthorized");
  });

  test("subnet pools: prefix allocation with default and given lengths, bounds, exhaustion, in-use deletion", async () => {
    const pool = (
      await c.ok("POST", "/v2.0/subnetpools", 201, {
        token: c.demo,
        body: {
          subnetpool: {
            name: "pool",
            prefixes: ["192.168.0.0/22"],
            default_prefixlen: 24,
            max_prefixlen: 26,
          },
        },
      })
    ).subnetpool;
    assert.equal(pool.ip_version, 4);
    assert.equal(pool.min_prefixlen, 8);
    const pn = (
      await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "pooled" } } })
    ).network.id;
    const fromPool = (body: Record<string, unknown>) =>
      c.req("POST", "/v2.0/subnets", {
        token: c.demo,
        body: { subnet: { network_id: pn, ip_version: 4, subnetpool_id: pool.id, ...body } },
      });
    const a = (await fromPool({})).body.subnet;
    assert.equal(a.cidr, "192.168.0.0/24");
    assert.equal(a.subnetpool_id, pool.id);
    const pn2 = (
      await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "pooled2" } } })
    ).network.id;
    const b = await c.req("POST", "/v2.0/subnets", {
      token: c.demo,
      body: { subnet: { network_id: pn2, ip_version: 4, subnetpool_id: pool.id, prefixlen: 26 } },
    });
    assert.equal(b.body.subnet.cidr, "192.168.1.0/26");
    const c3 = await c.req("POST", "/v2.0/subnets", {
      token: c.demo,
      body: { subnet: { network_id: pn2, ip_version: 4, subnetpool_id: pool.id, cidr: "192.168.3.0/24" } },
    });
    assert.equal(c3.status, 201, c3.text);
    neutronError(await fromPool({ prefixlen: 28 }), 400, "MaxPrefixSubnetAllocationError");
    neutronError(await fromPool({ cidr: "192.168.0.128/25" }), 400, "SubnetAllocationError");
    neutronError(await fromPool({ cidr: "10.0.0.0/24" }), 400, "SubnetAllocationError");
    neutronError(
      await c.req("DELETE", `/v2.0/subnetpools/${pool.id}`, { token: c.demo }),
      409,
      "SubnetPoolInUse",
    );
    const grown = await c.ok("PUT", `/v2.0/subnetpools/${pool.id}/add_prefixes`, 200, {
      token: c.demo,
      body: { prefixes: ["192.168.4.0/24"] },
    });
    assert.deepEqual(grown.prefixes, ["192.168.0.0/22", "192.168.4.0/24"]);
    neutronError(
      await c.req("PUT", `/v2.0/subnetpools/${pool.id}/remove_prefixes`, {
        token: c.demo,
        body: { prefixes: ["192.168.0.0/22"] },
      }),
      409,
    );
    neutronError(
      await c.req("PUT", `/v2.0/subnetpools/${pool.id}`, {
        token: c.demo,
        body: { subnetpool: { prefixes: ["10.0.0.0/8"] } },
      }),
      400,
      "IllegalSubnetPoolPrefixUpdate",
    );
    neutronError(
      await c.req("POST", "/v2.0/subnetpools", {
        token: c.demo,
        body: {
          subnetpool: { name: "bad", prefixes: ["10.0.0.0/8"], min_prefixlen: 24, default_prefixlen: 16 },
        },
      }),
      400,
      "IllegalSubnetPoolPrefixBounds",
    );
    neutronError(
      await c.req("POST", "/v2.0/subnetpools", {
        token: c.demo,
        body: { subnetpool: { name: "d", prefixes: ["10.0.0.0/8"], is_default: true } },
      }),
      403,
    );
    // The admin's default pool serves use_default_subnetpool.
    await c.ok("POST", "/v2.0/subnetpools", 201, {
      body: {
        subnetpool: {
          name: "default4",
          prefixes: ["172.30.0.0/16"],
          default_prefixlen: 24,
          is_default: true,
          shared: true,
        },
      },
    });
    const d = await c.req("POST", "/v2.0/subnets", {
      token: c.demo,
      body: { subnet: { network_id: pn2, ip_version: 4, use_default_subnetpool: true } },
    });
    assert.equal(d.status, 201, d.text);
    assert.equal(d.body.subnet.cidr, "172.30.0.0/24");
  });
});

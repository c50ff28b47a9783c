// Ports: address allocation (automatic, chosen, exhausted, taken), MACs, binding (admins see it; the noop agent
// plugs ports bound to its host), port security with groups and address pairs, extra DHCP options refused when
// they could inject configuration, updates of addresses, and deletion.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { NoopDriver } from "../../src/network/drivers/noop.js";
import { until } from "../helpers/wait.js";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

describe("ports", () => {
  let c: NetCloud;
  let net: string;
  let subnet: string;
  before(async () => {
    c = await bootNetwork();
    net = (await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "p-net" } } }))
      .network.id;
    subnet = (
      await c.ok("POST", "/v2.0/subnets", 201, {
        token: c.demo,
        // Automatic addresses come from .2-.60; the tests choose theirs above, so they never meet a random pick.
        body: {
          subnet: {
            network_id: net,
            ip_version: 4,
            cidr: "10.20.0.0/24",
            allocation_pools: [{ start: "10.20.0.2", end: "10.20.0.60" }],
          },
        },
      })
    ).subnet.id;
  });
  after(() => c?.close());

  const port = (body: Record<string, unknown>, token = c.demo) =>
    c.req("POST", "/v2.0/ports", { token, body: { port: { network_id: net, ...body } } });

  test("an automatic address from the pool, a MAC with the base prefix, the default security group, DOWN", async () => {
    const r = await port({ name: "p1" });
    assert.equal(r.status, 201, r.text);
    const p = r.body.port;
    assert.equal(p.fixed_ips.length, 1);
    assert.equal(p.fixed_ips[0].subnet_id, subnet);
    assert.match(p.fixed_ips[0].ip_address, /^10\.20\.0\.(\d+)$/);
    const last = Number(p.fixed_ips[0].ip_address.split(".")[3]);
    assert.ok(last >= 2 && last <= 60);
    assert.match(p.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(p.status, "DOWN");
    assert.equal(p.port_security_enabled, true);
    assert.equal(p.security_groups.length, 1);
    assert.equal(p["binding:vnic_type"], "normal");
    assert.ok(!("binding:vif_type" in p), "binding details are an admin's");
    const again = (await port({ name: "p2" })).body.port;
    assert.deepEqual(again.security_groups, p.security_groups, "one default group per project");
    const seen = (await c.ok("GET", `/v2.0/ports/${p.id}`, 200)).port;
    assert.equal(seen["binding:vif_type"], "unbound");
    assert.deepEqual(seen["binding:profile"], {});
  });

  test("chosen addresses: taken is 409, outside the subnet 400, the gateway 409, unknown subnet 400", async () => {
    const a = (await port({ fixed_ips: [{ ip_address: "10.20.0.77" }] })).body.port;
    assert.deepEqual(a.fixed_ips, [{ subnet_id: subnet, ip_address: "10.20.0.77" }]);
    neutronError(
      await port({ fixed_ips: [{ subnet_id: subnet, ip_address: "10.20.0.77" }] }),
      409,
      "IpAddressAlreadyAllocated",
    );
    neutronError(
      await port({ fixed_ips: [{ subnet_id: subnet, ip_address: "10.21.0.5" }] }),
      400,
      "InvalidIpForSubnet",
    );
    neutronError(await port({ fixed_ips: [{ ip_address: "10.21.0.5" }] }), 400, "InvalidIpForNetwork");
    neutronError(await port({ fixed_ips: [{ ip_address: "10.20.0.1" }] }), 409, "IpAddressAlreadyAllocated");
    neutronError(
      await port({ fixed_ips: [{ subnet_id: "00000000-0000-0000-0000-000000000000" }] }),
      400,
      "InvalidInput",
    );
    neutronError(await port({ fixed_ips: [{ ip_address: "10.20.0.300" }] }), 400, "HTTPBadRequest");
    // An address outside the pools but inside the prefix may be chosen.
    const outside = await c.ok("POST", "/v2.0/subnets", 201, {
      token: c.demo,
      body: {
        subnet: {
          network_id: net,
          ip_version: 4,
          cidr: "10.22.0.0/24",
          allocation_pools: [{ start: "10.22.0.10", end: "10.22.0.20" }],
        },
      },
    });
    const o = (await port({ fixed_ips: [{ subnet_id: outside.subnet.id, ip_address: "10.22.0.200" }] })).body
      .port;
    assert.equal(o.fixed_ips[0].ip_address, "10.22.0.200");
  });

  test("a full subnet is IpAddressGenerationFailure; releasing an address makes room", async () => {
    const tiny = (
      await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "tiny" } } })
    ).network.id;
    await c.ok("POST", "/v2.0/subnets", 201, {
      token: c.demo,
      body: { subnet: { network_id: tiny, ip_version: 4, cidr: "10.23.0.0/29" } },
    });
    const got = new Set<string>();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = (
        await c.ok("POST", "/v2.0/ports", 201, { token: c.demo, body: { port: { network_id: tiny } } })
      ).port;
      got.add(p.fixed_ips[0].ip_address);
      ids.push(p.id);
    }
    assert.deepEqual([...got].sort(), ["10.23.0.2", "10.23.0.3", "10.23.0.4", "10.23.0.5", "10.23.0.6"]);
    const full = await c.req("POST", "/v2.0/ports", { token: c.demo, body: { port: { network_id: tiny } } });
    neutronError(full, 409, "IpAddressGenerationFailure");
    assert.equal(full.body.NeutronError.message, `No more IP addresses available on network ${tiny}.`);
    assert.equal((await c.req("DELETE", `/v2.0/ports/${ids[2]}`, { token: c.demo })).status, 204);
    const p = (
      await c.ok("POST", "/v2.0/ports", 201, { token: c.demo, body: { port: { network_id: tiny } } })
    ).port;
    assert.equal(p.fixed_ips[0].ip_address, [...got][2]);
  });

  test("MACs: chosen ones are normalized, unique per network (409), refused when invalid; the owner may set them", async () => {
    const m = (await port({ mac_address: "FA-16-3E-AA-BB-CC" })).body.port;
    assert.equal(m.mac_address, "fa:16:3e:aa:bb:cc");
    neutronError(await port({ mac_address: "fa:16:3e:aa:bb:cc" }), 409, "MacAddressInUse");
    neutronError(await port({ mac_address: "00:00:00:00:00:00" }), 400);
    neutronError(await port({ mac_address: "zz:16:3e:aa:bb:cc" }), 400);
    const other = (
      await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "mac2" } } })
    ).network.id;
    await c.ok("POST", "/v2.0/ports", 201, {
      token: c.demo,
      body: { port: { network_id: other, mac_address: "fa:16:3e:aa:bb:cc" } },
    });
  });

  test("binding: host and profile are an admin's; the noop agent plugs a port bound to its host and reports it ACTIVE", async () => {
    const p = (await port({ name: "bound" })).body.port;
    neutronError(
      await c.req("PUT", `/v2.0/ports/${p.id}`, {
        token: c.demo,
        body: { port: { "binding:host_id": "compute1" } },
      }),
      403,
      "PolicyNotAuthorized",
    );
    const b = (
      await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, {
        body: { port: { "binding:host_id": "compute1", "binding:profile": { a: 1 } } },
      })
    ).port;
    assert.equal(b["binding:vif_type"], "tap");
    assert.deepEqual(b["binding:vif_details"], { port_filter: true, connectivity: "l2" });
    assert.deepEqual(b["binding:profile"], { a: 1 });
    const driver = c.t.cloud.network.localAgent!.deps.driver as NoopDriver;
    await until("the agent plugs the port", async () => {
      const s = (await c.ok("GET", `/v2.0/ports/${p.id}`, 200)).port.status;
      return s === "ACTIVE" && driver.ports.has(p.id);
    });
    assert.equal(driver.ports.get(p.id)?.macAddress, p.mac_address);
    assert.ok(driver.networks.has(net));
    const elsewhere = (
      await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, { body: { port: { "binding:host_id": "no-such-host" } } })
    ).port;
    assert.equal(elsewhere["binding:vif_type"], "binding_failed");
    await until("the agent unplugs the port that left its host", () => !driver.ports.has(p.id));
    await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, { body: { port: { "binding:host_id": "compute1" } } });
    await until("plugged again", () => driver.ports.has(p.id));
    assert.equal((await c.req("DELETE", `/v2.0/ports/${p.id}`, { token: c.demo })).status, 204);
    await until("the agent unplugs the deleted port", () => !driver.ports.has(p.id));
    // resync after a lost message: a port plugged behind the database's back is removed, a missing one plugged.
    const q = (
      await c.ok("POST", "/v2.0/ports", 201, {
        body: { port: { network_id: net, "binding:host_id": "compute1" } },
      })
    ).port;
    await until("plugged", () => driver.ports.has(q.id));
    driver.ports.delete(q.id);
    driver.ports.set("ghost", { ...driver.ports.get(q.id)!, id: "ghost" } as never);
    assert.deepEqual(await c.t.cloud.network.localAgent!.resync(), { plugged: 1, unplugged: 1 });
    assert.ok(driver.ports.has(q.id) && !driver.ports.has("ghost"));
  });

  test("port security: off removes groups, refuses pairs and groups; address pairs limits and duplicates", async () => {
    const insecure = (await port({ port_security_enabled: false })).body.port;
    assert.deepEqual(insecure.security_groups, []);
    neutronError(
      await port({ port_security_enabled: false, allowed_address_pairs: [{ ip_address: "10.20.0.250" }] }),
      409,
      "AddressPairAndPortSecurityRequired",
    );
    const secure = (await port({ allowed_address_pairs: [{ ip_address: "10.30.0.0/24" }] })).body.port;
    assert.deepEqual(secure.allowed_address_pairs, [
      { ip_address: "10.30.0.0/24", mac_address: secure.mac_address },
    ]);
    neutronError(
      await c.req("PUT", `/v2.0/ports/${secure.id}`, {
        token: c.demo,
        body: { port: { port_security_enabled: false } },
      }),
      409,
    );
    const off = (
      await c.ok("PUT", `/v2.0/ports/${secure.id}`, 200, {
        token: c.demo,
        body: { port: { port_security_enabled: false, security_groups: [], allowed_address_pairs: [] } },
      })
    ).port;
    assert.equal(off.port_security_enabled, false);
    assert.deepEqual(off.security_groups, []);
    const many = Array.from({ length: 11 }, (_, i) => ({ ip_address: `10.31.0.${i + 1}` }));
    neutronError(await port({ allowed_address_pairs: many }), 400, "AllowedAddressPairExhausted");
    neutronError(
      await port({ allowed_address_pairs: [{ ip_address: "10.31.0.1" }, { ip_address: "10.31.0.1" }] }),
      400,
      "DuplicateAddressPairInRequest",
    );
    neutronError(
      await port({ security_groups: ["6f1c6a53-8f40-4f7c-b9ad-7f0a3d7c2e11"] }),
      404,
      "SecurityGroupNotFound",
    );
  });

  test("extra DHCP options: known names only, no line breaks or control characters (OSSA-2021-005); merged on update", async () => {
    const p = (
      await port({
        extra_dhcp_opts: [
          { opt_name: "bootfile-name", opt_value: "pxelinux.0" },
          { opt_name: "dns-server", opt_value: "2001:db8::53", ip_version: 6 },
          { opt_name: "26", opt_value: "1400" },
        ],
      })
    ).body.port;
    assert.equal(p.extra_dhcp_opts.length, 3);
    for (const bad of [
      { opt_name: "bootfile-name", opt_value: "x\ndhcp-option=3,10.0.0.66" },
      { opt_name: "bootfile-name", opt_value: "x\rserver=8.8.8.8" },
      { opt_name: "bootfile-name", opt_value: "x\u0000y" },
      { opt_name: "bootfile-name\ndhcp-range=1", opt_value: "x" },
      { opt_name: "tag:evil,option:router", opt_value: "10.0.0.1" },
      { opt_name: "conf-file", opt_value: "/etc/passwd" },
      { opt_name: "999", opt_value: "x" },
      { opt_name: "bootfile-name", opt_value: "" },
    ])
      neutronError(await port({ extra_dhcp_opts: [bad] }), 400);
    const u = (
      await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, {
        token: c.demo,
        body: {
          port: {
            extra_dhcp_opts: [
              { opt_name: "bootfile-name", opt_value: null },
              { opt_name: "mtu", opt_value: "1400" },
            ],
          },
        },
      })
    ).port;
    assert.deepEqual(u.extra_dhcp_opts.map((o: { opt_name: string }) => o.opt_name).sort(), [
      "26",
      "dns-server",
      "mtu",
    ]);
  });

  test("updating fixed_ips keeps listed addresses, allocates new ones, releases the rest", async () => {
    const p = (await port({ fixed_ips: [{ ip_address: "10.20.0.101" }] })).body.port;
    const two = (
      await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, {
        token: c.demo,
        body: {
          port: {
            fixed_ips: [{ subnet_id: subnet, ip_address: "10.20.0.101" }, { ip_address: "10.20.0.102" }],
          },
        },
      })
    ).port;
    assert.deepEqual(
      two.fixed_ips.map((f: { ip_address: string }) => f.ip_address),
      ["10.20.0.101", "10.20.0.102"],
    );
    const one = (
      await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, {
        token: c.demo,
        body: { port: { fixed_ips: [{ ip_address: "10.20.0.102" }] } },
      })
    ).port;
    assert.deepEqual(
      one.fixed_ips.map((f: { ip_address: string }) => f.ip_address),
      ["10.20.0.102"],
    );
    // .101 is free again.
    const q = (await port({ fixed_ips: [{ ip_address: "10.20.0.101" }] })).body.port;
    assert.equal(q.fixed_ips[0].ip_address, "10.20.0.101");
    neutronError(
      await c.req("PUT", `/v2.0/ports/${p.id}`, { token: c.demo, body: { port: { network_id: net } } }),
      400,
      "HTTPBadRequest",
    );
  });

  test("bulk create: every port, or none when one fails", async () => {
    const two = await c.ok("POST", "/v2.0/ports", 201, {
      token: c.demo,
      body: {
        ports: [
          { network_id: net, name: "bulk-a" },
          { network_id: net, name: "bulk-b" },
        ],
      },
    });
    assert.deepEqual(
      two.ports.map((p: { name: string }) => p.name),
      ["bulk-a", "bulk-b"],
    );
    const clash = await c.req("POST", "/v2.0/ports", {
      token: c.demo,
      body: {
        ports: [
          { network_id: net, name: "bulk-c", fixed_ips: [{ ip_address: "10.20.0.180" }] },
          { network_id: net, name: "bulk-d", fixed_ips: [{ ip_address: "10.20.0.180" }] },
        ],
      },
    });
    neutronError(clash, 409, "IpAddressAlreadyAllocated");
    assert.deepEqual((await c.ok("GET", "/v2.0/ports?name=bulk-c", 200, { token: c.demo })).ports, []);
  });

  test("filters on fixed_ips and device, isolation from other projects, service ports cannot be deleted", async () => {
    const p = (
      await port({
        device_id: "vm-1",
        device_owner: "compute:nova",
        fixed_ips: [{ ip_address: "10.20.0.140" }],
      })
    ).body.port;
    const byIp = await c.ok("GET", "/v2.0/ports?fixed_ips=ip_address%3D10.20.0.140", 200, { token: c.demo });
    assert.deepEqual(
      byIp.ports.map((x: { id: string }) => x.id),
      [p.id],
    );
    const byDev = await c.ok("GET", "/v2.0/ports?device_id=vm-1", 200, { token: c.demo });
    assert.deepEqual(
      byDev.ports.map((x: { id: string }) => x.id),
      [p.id],
    );
    const other = await c.user("ports-iso");
    neutronError(await c.req("GET", `/v2.0/ports/${p.id}`, { token: other.token }), 404, "PortNotFound");
    neutronError(await c.req("DELETE", `/v2.0/ports/${p.id}`, { token: other.token }), 404, "PortNotFound");
    assert.deepEqual((await c.ok("GET", "/v2.0/ports", 200, { token: other.token })).ports, []);
    // Ports of routers belong to their router: not deleted through the port API.
    const router = (
      await c.ok("POST", "/v2.0/ports", 201, {
        body: { port: { network_id: net, device_owner: "network:router_interface" } },
      })
    ).port;
    neutronError(
      await c.req("DELETE", `/v2.0/ports/${router.id}`, { token: c.admin }),
      409,
      "ServicePortInUse",
    );
  });
});

// Routers: CRUD with the gateway on an external network, admin-only gateway attributes, interfaces by subnet and
// by port, static routes, the 409s (RouterInUse, SubnetInUse, a router port deleted directly), quotas, tags, the
// start-up router1 and its idempotence.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

describe("network routers", () => {
  let c: NetCloud;
  let pub: any;
  before(async () => {
    c = await bootNetwork();
    pub = (await c.ok("GET", "/v2.0/networks?name=public", 200)).networks[0];
  });
  after(() => c?.close());

  /** A network with one subnet in a project (as `token`). */
  async function netWithSubnet(token: string, cidr: string) {
    const net = (await c.ok("POST", "/v2.0/networks", 201, { token, body: { network: { name: "rn" } } }))
      .network;
    const sub = (
      await c.ok("POST", "/v2.0/subnets", 201, {
        token,
        body: { subnet: { network_id: net.id, ip_version: 4, cidr } },
      })
    ).subnet;
    return { net, sub };
  }

  test("the start-up router1: demo's, gateway on public, interface on private-subnet; made once", async () => {
    const routers = (await c.ok("GET", "/v2.0/routers?name=router1", 200, { token: c.demo })).routers;
    assert.equal(routers.length, 1);
    const r = routers[0];
    assert.equal(r.project_id, c.demoProject);
    assert.equal(r.external_gateway_info.network_id, pub.id);
    assert.equal(r.external_gateway_info.enable_snat, true);
    assert.match(r.external_gateway_info.external_fixed_ips[0].ip_address, /^172\.24\.4\./);
    assert.equal(r.distributed, undefined, "distributed is for admins only");
    const ifaces = (
      await c.ok("GET", `/v2.0/ports?device_id=${r.id}&device_owner=network:router_interface`, 200)
    ).ports;
    assert.equal(ifaces.length, 1);
    const priv = (await c.ok("GET", "/v2.0/subnets?name=private-subnet", 200)).subnets[0];
    assert.deepEqual(ifaces[0].fixed_ips, [{ subnet_id: priv.id, ip_address: priv.gateway_ip }]);
    // A second start (another process, a restart) makes nothing new.
    await c.t.cloud.network.bootstrap({ admin: c.adminProject, demo: c.demoProject });
    assert.equal((await c.ok("GET", "/v2.0/routers?name=router1", 200)).routers.length, 1);
  });

  test("create with a gateway, show, update, routes, interfaces, delete", async () => {
    const u = await c.user("rt");
    const { net, sub } = await netWithSubnet(u.token, "10.91.0.0/24");
    const r = (
      await c.ok("POST", "/v2.0/routers", 201, {
        token: u.token,
        body: { router: { name: "r1", external_gateway_info: { network_id: pub.id } } },
      })
    ).router;
    assert.equal(r.status, "ACTIVE");
    assert.equal(r.admin_state_up, true);
    assert.deepEqual(r.routes, []);
    assert.equal(r.revision_number, 1);
    assert.equal(r.external_gateway_info.network_id, pub.id);
    const gw = (await c.ok("GET", `/v2.0/ports?device_id=${r.id}&device_owner=network:router_gateway`, 200))
      .ports;
    assert.equal(gw.length, 1);
    assert.equal(gw[0].fixed_ips[0].ip_address, r.external_gateway_info.external_fixed_ips[0].ip_address);

    // Members may not choose SNAT or the gateway's addresses; admins may.
    neutronError(
      await c.req("PUT", `/v2.0/routers/${r.id}`, {
        token: u.token,
        body: { router: { external_gateway_info: { network_id: pub.id, enable_snat: false } } },
      }),
      403,
      "PolicyNotAuthorized",
    );
    const snatOff = (
      await c.ok("PUT", `/v2.0/routers/${r.id}`, 200, {
        body: {
          router: {
            external_gateway_info: {
              network_id: pub.id,
              enable_snat: false,
              external_fixed_ips: [{ ip_address: "172.24.4.200" }],
            },
          },
        },
      })
    ).router;
    assert.equal(snatOff.external_gateway_info.enable_snat, false);
    assert.equal(snatOff.external_gateway_info.external_fixed_ips[0].ip_address, "172.24.4.200");
    assert.equal(snatOff.revision_number, 2);

    // Interfaces: by subnet (the gateway address), not twice; by port.
    const add = await c.ok("PUT", `/v2.0/routers/${r.id}/add_router_interface`, 200, {
      token: u.token,
      body: { subnet_id: sub.id },
    });
    assert.equal(add.subnet_id, sub.id);
    assert.equal(add.network_id, net.id);
    const iface = (await c.ok("GET", `/v2.0/ports/${add.port_id}`, 200, { token: u.token })).port;
    assert.equal(iface.device_owner, "network:router_interface");
    assert.equal(iface.device_id, r.id);
    assert.equal(iface.fixed_ips[0].ip_address, "10.91.0.1");
    neutronError(
      await c.req("PUT", `/v2.0/routers/${r.id}/add_router_interface`, {
        token: u.token,
        body: { subnet_id: sub.id },
      }),
      400,
    );
    neutronError(
      await c.req("PUT", `/v2.0/routers/${r.id}/add_router_interface`, { token: u.token, body: {} }),
      400,
    );
    const other = await netWithSubnet(u.token, "10.92.0.0/24");
    const p = (
      await c.ok("POST", "/v2.0/ports", 201, { token: u.token, body: { port: { network_id: other.net.id } } })
    ).port;
    const byPort = await c.ok("PUT", `/v2.0/routers/${r.id}/add_router_interface`, 200, {
      token: u.token,
      body: { port_id: p.id },
    });
    assert.equal(byPort.port_id, p.id);
    assert.equal(byPort.subnet_id, other.sub.id);

    // A subnet with a router interface, and the interface port itself, cannot be deleted.
    neutronError(await c.req("DELETE", `/v2.0/subnets/${sub.id}`, { token: u.token }), 409, "SubnetInUse");
    neutronError(await c.req("DELETE", `/v2.0/ports/${add.port_id}`, { token: u.token }), 409);
    neutronError(await c.req("DELETE", `/v2.0/routers/${r.id}`, { token: u.token }), 409, "RouterInUse");

    // Static routes: the next hop must be on a connected subnet.
    neutronError(
      await c.req("PUT", `/v2.0/routers/${r.id}`, {
        token: u.token,
        body: { router: { routes: [{ destination: "192.168.50.0/24", nexthop: "10.99.0.5" }] } },
      }),
      400,
      "InvalidRoutes",
    );
    const routed = (
      await c.ok("PUT", `/v2.0/routers/${r.id}`, 200, {
        token: u.token,
        body: { router: { routes: [{ destination: "192.168.50.0/24", nexthop: "10.91.0.5" }] } },
      })
    ).router;
    assert.deepEqual(routed.routes, [{ destination: "192.168.50.0/24", nexthop: "10.91.0.5" }]);
    neutronError(
      await c.req("PUT", `/v2.0/routers/${r.id}/remove_router_interface`, {
        token: u.token,
        body: { subnet_id: sub.id },
      }),
      409,
      "RouterInterfaceInUseByRoute",
    );
    // routes: null clears them, as [] does (tempest's _delete_extra_routes).
    const noRoutes = (
      await c.ok("PUT", `/v2.0/routers/${r.id}`, 200, { token: u.token, body: { router: { routes: null } } })
    ).router;
    assert.deepEqual(noRoutes.routes, []);

    // Remove both interfaces (by subnet, by port), then the gateway, then the router.
    const rm = await c.ok("PUT", `/v2.0/routers/${r.id}/remove_router_interface`, 200, {
      token: u.token,
      body: { subnet_id: sub.id },
    });
    assert.equal(rm.port_id, add.port_id);
    neutronError(await c.req("GET", `/v2.0/ports/${add.port_id}`, { token: u.token }), 404, "PortNotFound");
    neutronError(
      await c.req("PUT", `/v2.0/routers/${r.id}/remove_router_interface`, {
        token: u.token,
        body: { subnet_id: sub.id },
      }),
      404,
      "RouterInterfaceNotFoundForSubnet",
    );
    await c.ok("PUT", `/v2.0/routers/${r.id}/remove_router_interface`, 200, {
      token: u.token,
      body: { port_id: p.id },
    });
    const cleared = (
      await c.ok("PUT", `/v2.0/routers/${r.id}`, 200, {
        token: u.token,
        body: { router: { external_gateway_info: {} } },
      })
    ).router;
    assert.equal(cleared.external_gateway_info, null, "{} clears the gateway, as null does");
    assert.equal(
      (await c.ok("GET", `/v2.0/ports?device_id=${r.id}`, 200)).ports.length,
      0,
      "the gateway port is gone",
    );
    await c.ok("DELETE", `/v2.0/subnets/${sub.id}`, 204, { token: u.token });
    await c.ok("DELETE", `/v2.0/routers/${r.id}`, 204, { token: u.token });
    neutronError(await c.req("GET", `/v2.0/routers/${r.id}`, { token: u.token }), 404, "RouterNotFound");
  });

  test("bad input, visibility, policy, quotas, tags, filters", async () => {
    const u = await c.user("rt2");
    const reader = await c.user("rt2r", "reader", u.project);
    const o = await c.user("rt2o");
    for (const body of [
      { router: { external_gateway_info: { network_id: "not-a-uuid" } } },
      { router: { external_gateway_info: { enable_snat: true } } },
      { router: { routes: [] } },
      { router: { bogus: 1 } },
      { router: { distributed: "yes" } },
      { routers: [{}] },
      "not json",
    ])
      neutronError(await c.req("POST", "/v2.0/routers", { token: u.token, body }), 400);
    neutronError(
      await c.req("POST", "/v2.0/routers", { token: u.token, body: { router: { distributed: true } } }),
      403,
    );
    neutronError(
      await c.req("POST", "/v2.0/routers", { token: c.admin, body: { router: { ha: true } } }),
      400,
    );
    neutronError(
      await c.req("POST", "/v2.0/routers", {
        token: u.token,
        body: { router: { external_gateway_info: { network_id: "11111111-2222-3333-4444-555555555555" } } },
      }),
      404,
      "NetworkNotFound",
    );
    const { net } = await netWithSubnet(u.token, "10.93.0.0/24");
    neutronError(
      await c.req("POST", "/v2.0/routers", {
        token: u.token,
        body: { router: { external_gateway_info: { network_id: net.id } } },
      }),
      400,
    );
    const r = (await c.ok("POST", "/v2.0/routers", 201, { token: u.token, body: { router: { name: "v" } } }))
      .router;
    assert.equal(r.external_gateway_info, null);
    assert.equal((await c.ok("GET", `/v2.0/routers/${r.id}`, 200, { token: reader.token })).router.name, "v");
    neutronError(
      await c.req("PUT", `/v2.0/routers/${r.id}`, { token: reader.token, body: { router: { name: "x" } } }),
      403,
    );
    neutronError(await c.req("GET", `/v2.0/routers/${r.id}`, { token: o.token }), 404, "RouterNotFound");
    neutronError(await c.req("DELETE", `/v2.0/routers/${r.id}`, { token: o.token }), 404, "RouterNotFound");
    assert.ok(
      !(await c.ok("GET", "/v2.0/routers", 200, { token: o.token })).routers.some((x: any) => x.id === r.id),
    );
    neutronError(await c.req("GET", "/v2.0/routers?bogus=1", { token: u.token }), 400);
    const listed = await c.ok("GET", "/v2.0/routers?fields=id&fields=name&sort_key=name", 200, {
      token: u.token,
    });
    assert.deepEqual(listed.routers, [{ id: r.id, name: "v" }]);
    await c.ok("PUT", `/v2.0/routers/${r.id}/tags/blue`, 201, { token: u.token });
    assert.deepEqual(
      (await c.ok("GET", "/v2.0/routers?tags=blue", 200, { token: u.token })).routers.map((x: any) => x.id),
      [r.id],
    );
    // Quota: one router.
    await c.ok("PUT", `/v2.0/quotas/${u.project}`, 200, { body: { quota: { router: 1 } } });
    neutronError(
      await c.req("POST", "/v2.0/routers", { token: u.token, body: { router: {} } }),
      409,
      "OverQuota",
    );
    await c.ok("DELETE", `/v2.0/routers/${r.id}`, 204, { token: u.token });
    await c.ok("POST", "/v2.0/routers", 201, { token: u.token, body: { router: {} } });
  });

  test("an interface on a subnet overlapping one the router has is 400, by subnet and by port", async () => {
    const u = await c.user("rt-overlap");
    const as = { token: u.token };
    const subnetOn = async (name: string, cidr: string) => {
      const net = (await c.ok("POST", "/v2.0/networks", 201, { ...as, body: { network: { name } } })).network;
      return (
        await c.ok("POST", "/v2.0/subnets", 201, {
          ...as,
          body: { subnet: { network_id: net.id, ip_version: 4, cidr } },
        })
      ).subnet;
    };
    const a = await subnetOn("ov-a", "10.95.0.0/24");
    const b = await subnetOn("ov-b", "10.95.0.0/24");
    const inner = await subnetOn("ov-c", "10.95.0.128/25");
    const router = (await c.ok("POST", "/v2.0/routers", 201, { ...as, body: { router: { name: "ov" } } }))
      .router;
    await c.ok("PUT", `/v2.0/routers/${router.id}/add_router_interface`, 200, {
      ...as,
      body: { subnet_id: a.id },
    });
    for (const s of [b, inner])
      neutronError(
        await c.req("PUT", `/v2.0/routers/${router.id}/add_router_interface`, {
          ...as,
          body: { subnet_id: s.id },
        }),
        400,
      );
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, { ...as, body: { port: { network_id: b.network_id } } })
    ).port;
    neutronError(
      await c.req("PUT", `/v2.0/routers/${router.id}/add_router_interface`, {
        ...as,
        body: { port_id: port.id },
      }),
      400,
    );
    // A subnet that does not overlap attaches.
    const d = await subnetOn("ov-d", "10.96.0.0/24");
    await c.ok("PUT", `/v2.0/routers/${router.id}/add_router_interface`, 200, {
      ...as,
      body: { subnet_id: d.id },
    });
  });

  test("extensions list what is implemented", async () => {
    const aliases = new Set(
      (await c.ok("GET", "/v2.0/extensions", 200)).extensions.map((e: { alias: string }) => e.alias),
    );
    for (const a of ["router", "ext-gw-mode", "extraroute", "floating-ip-port-forwarding"])
      assert.ok(aliases.has(a), a);
  });
});

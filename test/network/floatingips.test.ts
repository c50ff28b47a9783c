// Floating IPs and port forwardings: create on an external network only, an admin's chosen address, association
// through a router (404 without one), the address choice on multi-address ports, duplicates (409), the router's
// 409s while floating IPs need it, disassociation (and on port delete), port forwarding CRUD and conflicts, quotas.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

describe("network floating IPs", () => {
  let c: NetCloud;
  let pub: any;
  before(async () => {
    c = await bootNetwork();
    pub = (await c.ok("GET", "/v2.0/networks?name=public", 200)).networks[0];
  });
  after(() => c?.close());

  /** A project with a network, subnet, router (gateway on public, interface on the subnet) and a port. */
  async function setup(name: string, cidr: string) {
    const u = await c.user(name);
    const as = { token: u.token };
    const net = (await c.ok("POST", "/v2.0/networks", 201, { ...as, body: { network: { name } } })).network;
    const sub = (
      await c.ok("POST", "/v2.0/subnets", 201, {
        ...as,
        body: { subnet: { network_id: net.id, ip_version: 4, cidr } },
      })
    ).subnet;
    const router = (
      await c.ok("POST", "/v2.0/routers", 201, {
        ...as,
        body: { router: { name, external_gateway_info: { network_id: pub.id } } },
      })
    ).router;
    await c.ok("PUT", `/v2.0/routers/${router.id}/add_router_interface`, 200, {
      ...as,
      body: { subnet_id: sub.id },
    });
    const port = (await c.ok("POST", "/v2.0/ports", 201, { ...as, body: { port: { network_id: net.id } } }))
      .port;
    return { u, as, net, sub, router, port };
  }

  test("deleting an external network deletes its unassociated floating IPs; an associated one blocks it", async () => {
    const ext = (
      await c.ok("POST", "/v2.0/networks", 201, {
        body: { network: { name: "ext-del", "router:external": true } },
      })
    ).network;
    await c.ok("POST", "/v2.0/subnets", 201, {
      body: { subnet: { network_id: ext.id, ip_version: 4, cidr: "172.30.9.0/24", enable_dhcp: false } },
    });
    const idle = (
      await c.ok("POST", "/v2.0/floatingips", 201, { body: { floatingip: { floating_network_id: ext.id } } })
    ).floatingip;
    // An associated one (through a router with its gateway on the network) blocks the delete.
    const s = await setup("fip-extdel", "10.83.0.0/24");
    await c.ok("PUT", `/v2.0/routers/${s.router.id}`, 200, {
      body: { router: { external_gateway_info: { network_id: ext.id } } },
    });
    const used = (
      await c.ok("POST", "/v2.0/floatingips", 201, {
        body: { floatingip: { floating_network_id: ext.id, port_id: s.port.id, project_id: s.u.project } },
      })
    ).floatingip;
    neutronError(await c.req("DELETE", `/v2.0/networks/${ext.id}`, { token: c.admin }), 409, "NetworkInUse");
    await c.ok("DELETE", `/v2.0/floatingips/${used.id}`, 204);
    await c.ok("PUT", `/v2.0/routers/${s.router.id}`, 200, {
      body: { router: { external_gateway_info: {} } },
    });
    await c.ok("DELETE", `/v2.0/networks/${ext.id}`, 204);
    neutronError(await c.req("GET", `/v2.0/floatingips/${idle.id}`, { token: c.admin }), 404);
    const left = (await c.ok("GET", `/v2.0/ports?device_id=${idle.id}`, 200)).ports;
    assert.deepEqual(left, []);
  });

  test("create, associate, disassociate, delete; the router's 409s while it is needed", async () => {
    const s = await setup("fip", "10.81.0.0/24");
    const fip = (
      await c.ok("POST", "/v2.0/floatingips", 201, {
        ...s.as,
        body: { floatingip: { floating_network_id: pub.id, description: "d" } },
      })
    ).floatingip;
    assert.match(fip.floating_ip_address, /^172\.24\.4\./);
    assert.equal(fip.status, "DOWN");
    assert.equal(fip.port_id, null);
    assert.equal(fip.router_id, null);
    assert.equal(fip.project_id, s.u.project);
    const fport = (await c.ok("GET", `/v2.0/ports?device_id=${fip.id}`, 200)).ports[0];
    assert.equal(fport.device_owner, "network:floatingip");
    neutronError(await c.req("DELETE", `/v2.0/ports/${fport.id}`, { token: c.admin }), 409);

    const assoc = (
      await c.ok("PUT", `/v2.0/floatingips/${fip.id}`, 200, {
        ...s.as,
        body: { floatingip: { port_id: s.port.id } },
      })
    ).floatingip;
    assert.equal(assoc.port_id, s.port.id);
    assert.equal(assoc.fixed_ip_address, s.port.fixed_ips[0].ip_address);
    assert.equal(assoc.router_id, s.router.id);
    assert.equal(assoc.status, "ACTIVE");
    assert.equal(assoc.revision_number, 2);
    assert.deepEqual(
      (await c.ok("GET", `/v2.0/floatingips?port_id=${s.port.id}`, 200, s.as)).floatingips.map(
        (f: any) => f.id,
      ),
      [fip.id],
    );

    // A second floating IP for the same fixed address: 409.
    const fip2 = (
      await c.ok("POST", "/v2.0/floatingips", 201, {
        ...s.as,
        body: { floatingip: { floating_network_id: pub.id } },
      })
    ).floatingip;
    neutronError(
      await c.req("PUT", `/v2.0/floatingips/${fip2.id}`, {
        ...s.as,
        body: { floatingip: { port_id: s.port.id } },
      }),
      409,
      "FloatingIPPortAlreadyAssociated",
    );

    // The router cannot lose what the floating IP needs.
    neutronError(
      await c.req("PUT", `/v2.0/routers/${s.router.id}/remove_router_interface`, {
        ...s.as,
        body: { subnet_id: s.sub.id },
      }),
      409,
      "RouterInterfaceInUseByFloatingIP",
    );
    neutronError(
      await c.req("PUT", `/v2.0/routers/${s.router.id}`, {
        ...s.as,
        body: { router: { external_gateway_info: null } },
      }),
      409,
      "RouterExternalGatewayInUseByFloatingIp",
    );

    const gone = (
      await c.ok("PUT", `/v2.0/floatingips/${fip.id}`, 200, {
        ...s.as,
        body: { floatingip: { port_id: null } },
      })
    ).floatingip;
    assert.equal(gone.port_id, null);
    assert.equal(gone.fixed_ip_address, null);
    assert.equal(gone.router_id, null);
    assert.equal(gone.status, "DOWN");

    // Deleting an associated port disassociates its floating IP.
    await c.ok("PUT", `/v2.0/floatingips/${fip2.id}`, 200, {
      ...s.as,
      body: { floatingip: { port_id: s.port.id } },
    });
    await c.ok("DELETE", `/v2.0/ports/${s.port.id}`, 204, s.as);
    assert.equal((await c.ok("GET", `/v2.0/floatingips/${fip2.id}`, 200, s.as)).floatingip.port_id, null);

    await c.ok("DELETE", `/v2.0/floatingips/${fip.id}`, 204, s.as);
    neutronError(await c.req("GET", `/v2.0/floatingips/${fip.id}`, s.as), 404, "FloatingIPNotFound");
    assert.equal((await c.ok("GET", `/v2.0/ports?device_id=${fip.id}`, 200)).ports.length, 0);
  });

  test("only on external networks; addresses are an admin's choice; reachability; multi-address ports", async () => {
    const s = await setup("fip2", "10.82.0.0/24");
    neutronError(
      await c.req("POST", "/v2.0/floatingips", {
        ...s.as,
        body: { floatingip: { floating_network_id: s.net.id } },
      }),
      400,
    );
    neutronError(
      await c.req("POST", "/v2.0/floatingips", {
        ...s.as,
        body: { floatingip: { floating_network_id: pub.id, floating_ip_address: "172.24.4.77" } },
      }),
      403,
      "PolicyNotAuthorized",
    );
    const chosen = (
      await c.ok("POST", "/v2.0/floatingips", 201, {
        body: {
          floatingip: {
            floating_network_id: pub.id,
            floating_ip_address: "172.24.4.77",
            tenant_id: s.u.project,
          },
        },
      })
    ).floatingip;
    assert.equal(chosen.floating_ip_address, "172.24.4.77");
    neutronError(
      await c.req("POST", "/v2.0/floatingips", {
        token: c.admin,
        body: { floatingip: { floating_network_id: pub.id, floating_ip_address: "172.24.4.77" } },
      }),
      409,
    );
    for (const body of [
      { floatingip: {} },
      { floatingip: { floating_network_id: "x" } },
      { floatingip: { floating_network_id: pub.id, port_id: 5 } },
      { floatingip: { floating_network_id: pub.id, status: "ACTIVE" } },
      "nope",
    ])
      neutronError(await c.req("POST", "/v2.0/floatingips", { ...s.as, body }), 400);

    // A network no router connects to public: 404 ExternalGatewayForFloatingIPNotFound.
    const lone = (await c.ok("POST", "/v2.0/networks", 201, { ...s.as, body: { network: { name: "lone" } } }))
      .network;
    await c.ok("POST", "/v2.0/subnets", 201, {
      ...s.as,
      body: { subnet: { network_id: lone.id, ip_version: 4, cidr: "10.83.0.0/24" } },
    });
    const lonePort = (
      await c.ok("POST", "/v2.0/ports", 201, { ...s.as, body: { port: { network_id: lone.id } } })
    ).port;
    neutronError(
      await c.req("POST", "/v2.0/floatingips", {
        ...s.as,
        body: { floatingip: { floating_network_id: pub.id, port_id: lonePort.id } },
      }),
      404,
      "ExternalGatewayForFloatingIPNotFound",
    );

    // Two addresses on the port: fixed_ip_address must say which.
    const two = (
      await c.ok("POST", "/v2.0/ports", 201, {
        ...s.as,
        body: {
          port: { network_id: s.net.id, fixed_ips: [{ subnet_id: s.sub.id }, { subnet_id: s.sub.id }] },
        },
      })
    ).port;
    neutronError(
      await c.req("POST", "/v2.0/floatingips", {
        ...s.as,
        body: { floatingip: { floating_network_id: pub.id, port_id: two.id } },
      }),
      400,
    );
    const second = two.fixed_ips[1].ip_address;
    const f = (
      await c.ok("POST", "/v2.0/floatingips", 201, {
        ...s.as,
        body: { floatingip: { floating_network_id: pub.id, port_id: two.id, fixed_ip_address: second } },
      })
    ).floatingip;
    assert.equal(f.fixed_ip_address, second);
    assert.equal(f.status, "ACTIVE");

    // Others see nothing; readers read but do not change.
    const o = await c.user("fip2o");
    neutronError(
      await c.req("GET", `/v2.0/floatingips/${f.id}`, { token: o.token }),
      404,
      "FloatingIPNotFound",
    );
    const r = await c.user("fip2r", "reader", s.u.project);
    await c.ok("GET", `/v2.0/floatingips/${f.id}`, 200, { token: r.token });
    neutronError(await c.req("DELETE", `/v2.0/floatingips/${f.id}`, { token: r.token }), 403);
    neutronError(await c.req("GET", "/v2.0/floatingips?bogus=1", s.as), 400);
  });

  test("port forwardings: CRUD, conflicts, not on an associated floating IP", async () => {
    const s = await setup("pf", "10.84.0.0/24");
    const fip = (
      await c.ok("POST", "/v2.0/floatingips", 201, {
        ...s.as,
        body: { floatingip: { floating_network_id: pub.id } },
      })
    ).floatingip;
    const base = `/v2.0/floatingips/${fip.id}/port_forwardings`;
    const addr = s.port.fixed_ips[0].ip_address;
    const body = (external: number, internal = 22, protocol = "tcp") => ({
      port_forwarding: {
        internal_port_id: s.port.id,
        internal_ip_address: addr,
        internal_port: internal,
        external_port: external,
        protocol,
      },
    });
    const pf = (await c.ok("POST", base, 201, { ...s.as, body: body(2222) })).port_forwarding;
    assert.equal(pf.external_port, 2222);
    assert.equal(pf.internal_port, 22);
    assert.equal(pf.protocol, "tcp");
    assert.equal(
      (await c.ok("GET", `/v2.0/floatingips/${fip.id}`, 200, s.as)).floatingip.router_id,
      s.router.id,
    );
    neutronError(await c.req("POST", base, { ...s.as, body: body(2222, 23) }), 409);
    neutronError(await c.req("POST", base, { ...s.as, body: body(2223) }), 409, "PortForwardingConflict");
    await c.ok("POST", base, 201, { ...s.as, body: body(2222, 22, "udp") });
    for (const bad of [
      body(0),
      body(70000),
      body(80, 80, "icmp"),
      { port_forwarding: { ...body(81).port_forwarding, internal_ip_address: "10.84.0.250" } },
      { port_forwarding: { external_port: 1 } },
    ])
      neutronError(await c.req("POST", base, { ...s.as, body: bad }), 400);
    assert.equal((await c.ok("GET", base, 200, s.as)).port_forwardings.length, 2);
    assert.equal((await c.ok("GET", `${base}?protocol=udp`, 200, s.as)).port_forwardings.length, 1);
    const upd = (
      await c.ok("PUT", `${base}/${pf.id}`, 200, {
        ...s.as,
        body: { port_forwarding: { external_port: 2022 } },
      })
    ).port_forwarding;
    assert.equal(upd.external_port, 2022);
    assert.equal((await c.ok("GET", `${base}/${pf.id}`, 200, s.as)).port_forwarding.external_port, 2022);
    neutronError(
      await c.req("PUT", `/v2.0/floatingips/${fip.id}`, {
        ...s.as,
        body: { floatingip: { port_id: s.port.id } },
      }),
      409,
      "FipInUseByPortForwarding",
    );
    neutronError(
      await c.req("PUT", `/v2.0/routers/${s.router.id}/remove_router_interface`, {
        ...s.as,
        body: { subnet_id: s.sub.id },
      }),
      409,
      "RouterInterfaceInUseByFloatingIP",
    );
    const o = await c.user("pfo");
    neutronError(await c.req("GET", base, { token: o.token }), 404, "FloatingIPNotFound");
    neutronError(await c.req("DELETE", `${base}/${pf.id}`, { token: o.token }), 404);
    await c.ok("DELETE", `${base}/${pf.id}`, 204, s.as);
    neutronError(await c.req("GET", `${base}/${pf.id}`, s.as), 404, "PortForwardingNotFound");
    await c.ok("DELETE", `/v2.0/floatingips/${fip.id}`, 204, s.as);
  });

  test("the floatingip quota", async () => {
    const u = await c.user("fipq");
    await c.ok("PUT", `/v2.0/quotas/${u.project}`, 200, { body: { quota: { floatingip: 1 } } });
    const fb = { token: u.token, body: { floatingip: { floating_network_id: pub.id } } };
    await c.ok("POST", "/v2.0/floatingips", 201, fb);
    neutronError(await c.req("POST", "/v2.0/floatingips", fb), 409, "OverQuota");
    const d = (await c.ok("GET", `/v2.0/quotas/${u.project}/details`, 200, { token: u.token })).quota;
    assert.deepEqual(d.floatingip, { limit: 1, used: 1, reserved: 0 });
  });
});

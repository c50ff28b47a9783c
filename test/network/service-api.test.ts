// The service_api rule of the network policy: a user with the service role (compute's service user) reads, binds
// and updates the ports of any project (binding:host_id, binding:profile, device_id, device_owner) and finds them
// by device_id, as Nova does with Neutron; a plain member of another project still cannot.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

describe("network policy: service_api", () => {
  let c: NetCloud;
  before(async () => {
    c = await bootNetwork();
  });
  after(() => c?.close());

  test("a service user binds another project's port and sets its device; a member elsewhere cannot", async () => {
    const owner = await c.user("svc-owner");
    const service = await c.user("svc-nova", "service");
    const stranger = await c.user("svc-stranger");
    const net = (
      await c.ok("POST", "/v2.0/networks", 201, {
        token: owner.token,
        body: { network: { name: "svc-net" } },
      })
    ).network;
    await c.ok("POST", "/v2.0/subnets", 201, {
      token: owner.token,
      body: { subnet: { network_id: net.id, ip_version: 4, cidr: "10.61.0.0/24" } },
    });
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, { token: owner.token, body: { port: { network_id: net.id } } })
    ).port;
    const device = "5b0f3c2e-8d3a-4c55-9d1e-3f6f4c1a2b7d";
    const update = {
      port: {
        "binding:host_id": "compute1",
        "binding:profile": {},
        device_id: device,
        device_owner: "compute:nova",
      },
    };
    // Binding is the admin's or a service's: the owner itself is refused, a stranger does not see the port.
    neutronError(await c.req("PUT", `/v2.0/ports/${port.id}`, { token: owner.token, body: update }), 403);
    neutronError(await c.req("PUT", `/v2.0/ports/${port.id}`, { token: stranger.token, body: update }), 404);
    const bound = (await c.ok("PUT", `/v2.0/ports/${port.id}`, 200, { token: service.token, body: update }))
      .port;
    assert.equal(bound["binding:host_id"], "compute1");
    assert.equal(bound.device_id, device);
    assert.equal(bound.device_owner, "compute:nova");
    assert.equal(bound.project_id, owner.project);

    // It reads the port (with its binding) and finds it by device_id across projects.
    const shown = (await c.ok("GET", `/v2.0/ports/${port.id}`, 200, { token: service.token })).port;
    assert.equal(shown["binding:host_id"], "compute1");
    const found = (await c.ok("GET", `/v2.0/ports?device_id=${device}`, 200, { token: service.token })).ports;
    assert.deepEqual(
      found.map((p: { id: string }) => p.id),
      [port.id],
    );
    const hidden = (await c.ok("GET", `/v2.0/ports?device_id=${device}`, 200, { token: stranger.token }))
      .ports;
    assert.deepEqual(hidden, []);

    // And unbinds it on the server's delete.
    const unbound = (
      await c.ok("PUT", `/v2.0/ports/${port.id}`, 200, {
        token: service.token,
        body: { port: { "binding:host_id": "", device_id: "", device_owner: "" } },
      })
    ).port;
    assert.equal(unbound.device_id, "");
    neutronError(await c.req("DELETE", `/v2.0/ports/${port.id}`, { token: stranger.token }), 404);
    await c.ok("DELETE", `/v2.0/ports/${port.id}`, 204, { token: service.token });
  });

  test("a service user puts a bound port on another project's network and reads what compute reads", async () => {
    const owner = await c.user("svc-owner2");
    const service = await c.user("svc-nova2", "service");
    const stranger = await c.user("svc-stranger2");
    const net = (
      await c.ok("POST", "/v2.0/networks", 201, {
        token: owner.token,
        body: { network: { name: "svc-net2" } },
      })
    ).network;
    const subnet = (
      await c.ok("POST", "/v2.0/subnets", 201, {
        token: owner.token,
        body: { subnet: { network_id: net.id, ip_version: 4, cidr: "10.62.0.0/24" } },
      })
    ).subnet;
    const body = {
      port: {
        network_id: net.id,
        project_id: owner.project,
        device_id: "0d8f8f4e-4c1e-4d43-9d9e-5b1a7d2e6c10",
        device_owner: "compute:nova",
        "binding:host_id": "compute1",
        fixed_ips: [{ subnet_id: subnet.id, ip_address: "10.62.0.20" }],
      },
    };
    // Service-only: the owner may not bind, a stranger (even naming the project) does not find the network.
    neutronError(
      await c.req("POST", "/v2.0/ports", { token: owner.token, body }),
      403,
      "PolicyNotAuthorized",
    );
    neutronError(await c.req("POST", "/v2.0/ports", { token: stranger.token, body }), 404);
    const port = (await c.ok("POST", "/v2.0/ports", 201, { token: service.token, body })).port;
    assert.equal(port.project_id, owner.project);
    assert.equal(port["binding:host_id"], "compute1");
    assert.equal(port.fixed_ips[0].ip_address, "10.62.0.20");
    // What compute reads for its network info cache: the network, its subnets, the floating IPs on the port.
    const shown = (await c.ok("GET", `/v2.0/networks/${net.id}`, 200, { token: service.token })).network;
    assert.equal(shown.id, net.id);
    const subnets = (await c.ok("GET", `/v2.0/subnets?id=${subnet.id}`, 200, { token: service.token }))
      .subnets;
    assert.deepEqual(
      subnets.map((s: { id: string }) => s.id),
      [subnet.id],
    );
    assert.deepEqual(
      (await c.ok("GET", `/v2.0/floatingips?port_id=${port.id}`, 200, { token: service.token })).floatingips,
      [],
    );
    // It may not change the network itself (the owner's).
    neutronError(
      await c.req("PUT", `/v2.0/networks/${net.id}`, {
        token: service.token,
        body: { network: { name: "x" } },
      }),
      403,
    );
    await c.ok("DELETE", `/v2.0/ports/${port.id}`, 204, { token: service.token });
  });
});

// Multiple port bindings (binding-extended): an inactive binding on another host, its activation (the former one
// kept inactive), deletion, Neutron's errors and response shapes, who may use them (admins and service users), and
// the agent of a host plugging a port that is only moving there (inactive binding) and unplugging it once the
// binding there is gone.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { inactiveBindings } from "../../src/network/store/port-bindings.js";
import { until } from "../helpers/wait.js";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

const KEYS = ["host", "profile", "status", "vif_details", "vif_type", "vnic_type"];

describe("port bindings (binding-extended)", () => {
  let c: NetCloud;
  let net = "";
  before(async () => {
    c = await bootNetwork();
    net = (await c.ok("POST", "/v2.0/networks", 201, { body: { network: { name: "pb-net" } } })).network.id;
    await c.ok("POST", "/v2.0/subnets", 201, {
      body: { subnet: { network_id: net, ip_version: 4, cidr: "10.63.0.0/24" } },
    });
  });
  after(() => c?.close());

  const computePort = async (host: string, token = c.admin) =>
    (
      await c.ok("POST", "/v2.0/ports", 201, {
        token,
        body: { port: { network_id: net, device_owner: "compute:nova", "binding:host_id": host } },
      })
    ).port;
  const plugged = async (portId: string) =>
    (await c.t.cloud.network.localAgent!.deps.driver.state()).ports.includes(portId);

  test("the extension is listed", async () => {
    const aliases = (await c.ok("GET", "/v2.0/extensions", 200)).extensions.map(
      (e: { alias: string }) => e.alias,
    );
    assert.ok(aliases.includes("binding-extended"));
    assert.equal(
      (await c.ok("GET", "/v2.0/extensions/binding-extended", 200)).extension.name,
      "Port Bindings Extended",
    );
  });

  test("create inactive, activate (the former kept inactive), delete; errors as Neutron's", async () => {
    const port = await computePort("src-host");
    const base = `/v2.0/ports/${port.id}/bindings`;
    const listed = (await c.ok("GET", base, 200)).bindings;
    assert.equal(listed.length, 1);
    assert.deepEqual(Object.keys(listed[0]).sort(), KEYS);
    assert.equal(listed[0].host, "src-host");
    assert.equal(listed[0].status, "ACTIVE");

    // compute1 has a live agent: the binding there gets its VIF type.
    const made = await c.ok("POST", base, 201, {
      body: { binding: { host: "compute1", vnic_type: "normal", profile: { migrating_to: "compute1" } } },
    });
    assert.deepEqual(Object.keys(made.binding).sort(), KEYS);
    assert.equal(made.binding.host, "compute1");
    assert.equal(made.binding.status, "INACTIVE");
    assert.equal(made.binding.vif_type, "tap");
    assert.deepEqual(made.binding.profile, { migrating_to: "compute1" });
    // The port itself is unchanged.
    assert.equal((await c.ok("GET", `/v2.0/ports/${port.id}`, 200)).port["binding:host_id"], "src-host");

    for (const host of ["compute1", "src-host"])
      neutronError(
        await c.req("POST", base, { token: c.admin, body: { binding: { host } } }),
        409,
        "PortBindingAlreadyExists",
      );
    neutronError(await c.req("POST", base, { token: c.admin, body: { binding: {} } }), 400);
    neutronError(
      await c.req("POST", base, { token: c.admin, body: { binding: { host: "x", status: "ACTIVE" } } }),
      400,
    );
    neutronError(
      await c.req("POST", base, { token: c.admin, body: { binding: { host: "x", vnic_type: "bogus" } } }),
      400,
    );

    const one = (await c.ok("GET", `${base}/compute1`, 200)).binding;
    assert.equal(one.status, "INACTIVE");
    assert.deepEqual((await c.ok("GET", `${base}/compute1?fields=host`, 200)).binding, { host: "compute1" });
    neutronError(await c.req("GET", `${base}/nowhere`, { token: c.admin }), 404, "PortBindingNotFound");
    const inactive = (await c.ok("GET", `${base}?status=INACTIVE&fields=host`, 200)).bindings;
    assert.deepEqual(inactive, [{ host: "compute1" }]);

    neutronError(
      await c.req("PUT", `${base}/src-host/activate`, { token: c.admin }),
      409,
      "PortBindingAlreadyActive",
    );
    neutronError(
      await c.req("PUT", `${base}/nowhere/activate`, { token: c.admin }),
      404,
      "PortBindingNotFound",
    );
    const active = (await c.ok("PUT", `${base}/compute1/activate`, 200)).binding;
    assert.equal(active.host, "compute1");
    assert.equal(active.status, "ACTIVE");
    const moved = (await c.ok("GET", `/v2.0/ports/${port.id}`, 200)).port;
    assert.equal(moved["binding:host_id"], "compute1");
    assert.deepEqual(moved["binding:profile"], { migrating_to: "compute1" });
    const after = (await c.ok("GET", base, 200)).bindings;
    assert.deepEqual(
      after.map((b: { host: string; status: string }) => [b.host, b.status]),
      [
        ["compute1", "ACTIVE"],
        ["src-host", "INACTIVE"],
      ],
    );

    await c.ok("DELETE", `${base}/src-host`, 204);
    neutronError(await c.req("DELETE", `${base}/src-host`, { token: c.admin }), 404, "PortBindingNotFound");
    assert.deepEqual(
      (await c.ok("GET", base, 200)).bindings.map((b: { host: string }) => b.host),
      ["compute1"],
    );

    // Only compute ports have bindings; a missing port is PortNotFound; a deleted port takes its bindings along.
    const plain = (await c.ok("POST", "/v2.0/ports", 201, { body: { port: { network_id: net } } })).port;
    neutronError(
      await c.req("GET", `/v2.0/ports/${plain.id}/bindings`, { token: c.admin }),
      400,
      "BadRequest",
    );
    neutronError(
      await c.req("GET", "/v2.0/ports/3f0c4b51-7f1b-4d2e-9a55-0b8d7c3e2a11/bindings", { token: c.admin }),
      404,
      "PortNotFound",
    );
    await c.ok("POST", base, 201, { body: { binding: { host: "later" } } });
    await c.ok("DELETE", `/v2.0/ports/${port.id}`, 204);
    assert.deepEqual(await inactiveBindings(c.t.cloud.network.core, port.id), []);
  });

  test("only admins and service users: a member sees none, makes none; a service user does it all", async () => {
    const member = await c.user("pb-member");
    const service = await c.user("pb-service", "service");
    const memberNet = (
      await c.ok("POST", "/v2.0/networks", 201, { token: member.token, body: { network: { name: "pb-m" } } })
    ).network.id;
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, {
        token: member.token,
        body: { port: { network_id: memberNet, device_owner: "compute:nova" } },
      })
    ).port;
    const base = `/v2.0/ports/${port.id}/bindings`;
    assert.deepEqual((await c.ok("GET", base, 200, { token: member.token })).bindings, []);
    neutronError(
      await c.req("POST", base, { token: member.token, body: { binding: { host: "h1" } } }),
      403,
      "PolicyNotAuthorized",
    );
    const made = await c.ok("POST", base, 201, { token: service.token, body: { binding: { host: "h1" } } });
    assert.equal(made.binding.status, "INACTIVE");
    neutronError(await c.req("GET", `${base}/h1`, { token: member.token }), 404, "PortBindingNotFound");
    neutronError(await c.req("PUT", `${base}/h1/activate`, { token: member.token }), 404);
    neutronError(await c.req("DELETE", `${base}/h1`, { token: member.token }), 404);
    // An unbound port's first binding is inactive too; activating it binds the port.
    const act = await c.ok("PUT", `${base}/h1/activate`, 200, { token: service.token });
    assert.equal(act.binding.status, "ACTIVE");
    await c.ok("DELETE", `${base}/h1`, 204, { token: service.token });
    assert.equal((await c.ok("GET", `/v2.0/ports/${port.id}`, 200)).port["binding:host_id"], "");
  });

  test("an agent plugs a port moving to its host, and unplugs it only once its binding there is gone", async () => {
    // Destination side: an inactive binding on compute1 gets the port plugged there, its status left alone.
    const incoming = await computePort("src-host");
    await c.ok("POST", `/v2.0/ports/${incoming.id}/bindings`, 201, {
      body: { binding: { host: "compute1" } },
    });
    await until("the incoming port plugged on compute1", () => plugged(incoming.id));
    assert.notEqual((await c.ok("GET", `/v2.0/ports/${incoming.id}`, 200)).port.status, "ACTIVE");
    await c.ok("PUT", `/v2.0/ports/${incoming.id}/bindings/compute1/activate`, 200);
    await until(
      "the port ACTIVE on compute1",
      async () => (await c.ok("GET", `/v2.0/ports/${incoming.id}`, 200)).port.status === "ACTIVE",
    );
    assert.ok(await plugged(incoming.id));

    // Source side: activation elsewhere keeps compute1's tap (its binding is inactive now); deleting it removes it.
    await c.ok("POST", `/v2.0/ports/${incoming.id}/bindings`, 201, {
      body: { binding: { host: "dest-host" } },
    });
    await c.ok("PUT", `/v2.0/ports/${incoming.id}/bindings/dest-host/activate`, 200);
    await c.ok("GET", `/v2.0/ports/${incoming.id}/bindings/compute1`, 200);
    // Give the agent its port_update (the same fanout as the delete below), then check the tap is still there.
    await c.t.cloud.network.localAgent!.resync();
    assert.ok(await plugged(incoming.id), "the source's tap went before its binding was deleted");
    await c.ok("DELETE", `/v2.0/ports/${incoming.id}/bindings/compute1`, 204);
    await until("the port unplugged from compute1", async () => !(await plugged(incoming.id)));
    await c.ok("DELETE", `/v2.0/ports/${incoming.id}`, 204);
  });
});

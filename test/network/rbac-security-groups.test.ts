// Security group RBAC (Neutron's rbac-security-groups): an owner shares a group with a project (access_as_shared);
// that project sees it (shared true), puts its ports in it, but does not change it; access_as_external is refused for
// groups; a grant ports depend on stays (409); deleting the group drops its grants.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

describe("security group RBAC", () => {
  let c: NetCloud;
  before(async () => {
    c = await bootNetwork();
  });
  after(() => c?.close());

  const grant = (token: string, objectId: string, target: string, action = "access_as_shared") =>
    c.req("POST", "/v2.0/rbac-policies", {
      token,
      body: {
        rbac_policy: { object_type: "security_group", object_id: objectId, action, target_tenant: target },
      },
    });

  test("share a group with a project: it sees and uses it, cannot change it; in-use grants stay", async () => {
    const owner = await c.user("sgr-owner");
    const guest = await c.user("sgr-guest");
    const third = await c.user("sgr-third");
    const sg = (
      await c.ok("POST", "/v2.0/security-groups", 201, {
        token: owner.token,
        body: { security_group: { name: "to-share" } },
      })
    ).security_group;
    assert.equal(sg.shared, false);
    neutronError(await c.req("GET", `/v2.0/security-groups/${sg.id}`, { token: guest.token }), 404);
    // Only the owner grants; access_as_external is a network action.
    neutronError(await grant(guest.token, sg.id, guest.project), 404);
    neutronError(
      await grant(owner.token, sg.id, guest.project, "access_as_external"),
      400,
      "InvalidActionForType",
    );
    const r = await grant(owner.token, sg.id, guest.project);
    assert.equal(r.status, 201, r.text);
    const entry = r.body.rbac_policy;
    assert.equal(entry.object_type, "security_group");
    assert.equal(entry.target_tenant, guest.project);

    const seen = (await c.ok("GET", `/v2.0/security-groups/${sg.id}`, 200, { token: guest.token }))
      .security_group;
    assert.equal(seen.shared, true);
    const listed = (await c.ok("GET", "/v2.0/security-groups", 200, { token: guest.token })).security_groups;
    assert.ok(listed.some((g: { id: string }) => g.id === sg.id));
    const thirds = (await c.ok("GET", "/v2.0/security-groups", 200, { token: third.token })).security_groups;
    assert.ok(!thirds.some((g: { id: string }) => g.id === sg.id));
    neutronError(
      await c.req("PUT", `/v2.0/security-groups/${sg.id}`, {
        token: guest.token,
        body: { security_group: { name: "taken" } },
      }),
      403,
    );

    // The guest's port joins the shared group; a third project's cannot.
    const net = (
      await c.ok("POST", "/v2.0/networks", 201, {
        token: guest.token,
        body: { network: { name: "sgr-net" } },
      })
    ).network;
    await c.ok("POST", "/v2.0/subnets", 201, {
      token: guest.token,
      body: { subnet: { network_id: net.id, ip_version: 4, cidr: "10.62.0.0/24" } },
    });
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, {
        token: guest.token,
        body: { port: { network_id: net.id, security_groups: [sg.id] } },
      })
    ).port;
    assert.deepEqual(port.security_groups, [sg.id]);
    const net3 = (
      await c.ok("POST", "/v2.0/networks", 201, {
        token: third.token,
        body: { network: { name: "sgr-net3" } },
      })
    ).network;
    neutronError(
      await c.req("POST", "/v2.0/ports", {
        token: third.token,
        body: { port: { network_id: net3.id, security_groups: [sg.id] } },
      }),
      404,
    );

    // The grant is in use: it stays until the port leaves the group.
    neutronError(
      await c.req("DELETE", `/v2.0/rbac-policies/${entry.id}`, { token: owner.token }),
      409,
      "RbacPolicyInUse",
    );
    await c.ok("PUT", `/v2.0/ports/${port.id}`, 200, {
      token: guest.token,
      body: { port: { security_groups: [] } },
    });
    await c.ok("DELETE", `/v2.0/rbac-policies/${entry.id}`, 204, { token: owner.token });
    neutronError(await c.req("GET", `/v2.0/security-groups/${sg.id}`, { token: guest.token }), 404);

    // Deleting the group drops its grants.
    const again = (await grant(owner.token, sg.id, third.project)).body.rbac_policy;
    await c.ok("DELETE", `/v2.0/security-groups/${sg.id}`, 204, { token: owner.token });
    neutronError(await c.req("GET", `/v2.0/rbac-policies/${again.id}`, { token: owner.token }), 404);
  });

  test("the extension is listed", async () => {
    const exts = (await c.ok("GET", "/v2.0/extensions", 200)).extensions.map(
      (e: { alias: string }) => e.alias,
    );
    assert.ok(exts.includes("rbac-security-groups"));
  });
});

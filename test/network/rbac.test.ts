// Network RBAC: sharing a network with one project (it sees it, may put ports on it), with everyone (admins
// only), as an external network; grants that ports depend on cannot be removed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

describe("network RBAC policies", () => {
  let c: NetCloud;
  before(async () => {
    c = await bootNetwork();
  });
  after(() => c?.close());

  test("share with one project: it sees the network (shared for it only), uses it; the grant in use stays", async () => {
    const owner = await c.user("rbac-owner");
    const guest = await c.user("rbac-guest");
    const third = await c.user("rbac-third");
    const net = (
      await c.ok("POST", "/v2.0/networks", 201, {
        token: owner.token,
        body: { network: { name: "to-share" } },
      })
    ).network;
    await c.ok("POST", "/v2.0/subnets", 201, {
      token: owner.token,
      body: { subnet: { network_id: net.id, ip_version: 4, cidr: "10.50.0.0/24" } },
    });
    neutronError(await c.req("GET", `/v2.0/networks/${net.id}`, { token: guest.token }), 404);
    const grant = (
      await c.ok("POST", "/v2.0/rbac-policies", 201, {
        token: owner.token,
        body: {
          rbac_policy: {
            object_type: "network",
            object_id: net.id,
            action: "access_as_shared",
            target_tenant: guest.project,
          },
        },
      })
    ).rbac_policy;
    assert.equal(grant.target_tenant, guest.project);
    assert.equal(grant.project_id, owner.project);
    neutronError(
      await c.req("POST", "/v2.0/rbac-policies", {
        token: owner.token,
        body: {
          rbac_policy: {
            object_type: "network",
            object_id: net.id,
            action: "access_as_shared",
            target_tenant: guest.project,
          },
        },
      }),
      409,
      "DuplicateRbacPolicy",
    );
    assert.equal(
      (await c.req("GET", `/v2.0/networks/${net.id}`, { token: guest.token })).body.network.shared,
      true,
    );
    assert.equal(
      (await c.req("GET", `/v2.0/networks/${net.id}`, { token: owner.token })).body.network.shared,
      false,
    );
    neutronError(await c.req("GET", `/v2.0/networks/${net.id}`, { token: third.token }), 404);
    // The guest sees the subnet of a network shared with it, and the grant is not the guest's to see or delete.
    assert.equal((await c.ok("GET", "/v2.0/subnets", 200, { token: guest.token })).subnets.length, 1);
    neutronError(
      await c.req("GET", `/v2.0/rbac-policies/${grant.id}`, { token: guest.token }),
      404,
      "RbacPolicyNotFound",
    );
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, { token: guest.token, body: { port: { network_id: net.id } } })
    ).port;
    // The owner sees the guest's port on its network; the guest's port keeps the grant alive.
    assert.ok(
      (await c.ok("GET", "/v2.0/ports", 200, { token: owner.token })).ports.some(
        (p: { id: string }) => p.id === port.id,
      ),
    );
    neutronError(
      await c.req("DELETE", `/v2.0/rbac-policies/${grant.id}`, { token: owner.token }),
      409,
      "RbacPolicyInUse",
    );
    neutronError(
      await c.req("PUT", `/v2.0/rbac-policies/${grant.id}`, {
        token: owner.token,
        body: { rbac_policy: { target_tenant: third.project } },
      }),
      409,
      "RbacPolicyInUse",
    );
    assert.equal((await c.req("DELETE", `/v2.0/ports/${port.id}`, { token: guest.token })).status, 204);
    const moved = await c.ok("PUT", `/v2.0/rbac-policies/${grant.id}`, 200, {
      token: owner.token,
      body: { rbac_policy: { target_tenant: third.project } },
    });
    assert.equal(moved.rbac_policy.target_tenant, third.project);
    assert.equal((await c.req("GET", `/v2.0/networks/${net.id}`, { token: third.token })).status, 200);
    neutronError(await c.req("GET", `/v2.0/networks/${net.id}`, { token: guest.token }), 404);
    assert.equal(
      (await c.req("DELETE", `/v2.0/rbac-policies/${grant.id}`, { token: owner.token })).status,
      204,
    );
    neutronError(await c.req("GET", `/v2.0/networks/${net.id}`, { token: third.token }), 404);
  });

  test("only admins grant to every project; a project cannot grant on a network it does not own", async () => {
    const owner = await c.user("rbac-w");
    const net = (
      await c.ok("POST", "/v2.0/networks", 201, { token: owner.token, body: { network: { name: "w" } } })
    ).network;
    const body = {
      rbac_policy: {
        object_type: "network",
        object_id: net.id,
        action: "access_as_shared",
        target_tenant: "*",
      },
    };
    neutronError(
      await c.req("POST", "/v2.0/rbac-policies", { token: owner.token, body }),
      403,
      "PolicyNotAuthorized",
    );
    const stranger = await c.user("rbac-s");
    neutronError(
      await c.req("POST", "/v2.0/rbac-policies", {
        token: stranger.token,
        body: { rbac_policy: { ...body.rbac_policy, target_tenant: stranger.project } },
      }),
      404,
      "NetworkNotFound",
    );
    const wild = (
      await c.ok("POST", "/v2.0/rbac-policies", 201, {
        body: { rbac_policy: { ...body.rbac_policy, tenant_id: owner.project } },
      })
    ).rbac_policy;
    assert.equal(
      (await c.req("GET", `/v2.0/networks/${net.id}`, { token: stranger.token })).body.network.shared,
      true,
    );
    neutronError(
      await c.req("POST", "/v2.0/rbac-policies", {
        token: owner.token,
        body: { rbac_policy: { ...body.rbac_policy, action: "access_as_owner" } },
      }),
      400,
    );
    assert.equal((await c.req("DELETE", `/v2.0/rbac-policies/${wild.id}`, { token: c.admin })).status, 204);
  });

  test("access_as_external makes the network external for its target; removing the last grant unmarks it", async () => {
    const net = (await c.ok("POST", "/v2.0/networks", 201, { body: { network: { name: "ext" } } })).network;
    const guest = await c.user("rbac-ext");
    const grant = (
      await c.ok("POST", "/v2.0/rbac-policies", 201, {
        body: {
          rbac_policy: {
            object_type: "network",
            object_id: net.id,
            action: "access_as_external",
            target_tenant: guest.project,
          },
        },
      })
    ).rbac_policy;
    const seen = (await c.req("GET", `/v2.0/networks/${net.id}`, { token: guest.token })).body.network;
    assert.equal(seen["router:external"], true);
    assert.equal(seen.shared, false);
    const listed = await c.ok("GET", "/v2.0/rbac-policies?action=access_as_external", 200);
    assert.ok(listed.rbac_policies.some((p: { id: string }) => p.id === grant.id));
    assert.equal((await c.req("DELETE", `/v2.0/rbac-policies/${grant.id}`, { token: c.admin })).status, 204);
    assert.equal((await c.ok("GET", `/v2.0/networks/${net.id}`, 200)).network["router:external"], false);
  });
});

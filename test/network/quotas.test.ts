// Network quotas: show (defaults, then the project's own), details with usage, defaults, an admin's update and
// reset, who may do what, and enforcement (409 OverQuota), also for concurrent creates.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

describe("network quotas", () => {
  let c: NetCloud;
  before(async () => {
    c = await bootNetwork();
  });
  after(() => c?.close());

  test("show, details, defaults; members read their own; admins change and reset", async () => {
    const u = await c.user("quota");
    const q = (await c.ok("GET", `/v2.0/quotas/${u.project}`, 200, { token: u.token })).quota;
    assert.deepEqual(q, {
      network: 100,
      subnet: 100,
      port: 500,
      subnetpool: -1,
      rbac_policy: 10,
      security_group: 10,
      router: 10,
      floatingip: 50,
      security_group_rule: 100,
    });
    assert.deepEqual(
      (await c.ok("GET", `/v2.0/quotas/${u.project}/default`, 200, { token: u.token })).quota,
      q,
    );
    neutronError(await c.req("GET", `/v2.0/quotas/${c.demoProject}`, { token: u.token }), 403);
    neutronError(
      await c.req("PUT", `/v2.0/quotas/${u.project}`, { token: u.token, body: { quota: { network: 1 } } }),
      403,
    );
    await c.ok("POST", "/v2.0/networks", 201, { token: u.token, body: { network: { name: "q1" } } });
    const d = (await c.ok("GET", `/v2.0/quotas/${u.project}/details`, 200, { token: u.token })).quota;
    assert.deepEqual(d.network, { limit: 100, used: 1, reserved: 0 });
    // The .json suffix form (tempest's quotas client) answers the same.
    const dj = (await c.ok("GET", `/v2.0/quotas/${u.project}/details.json`, 200, { token: u.token })).quota;
    assert.deepEqual(dj, d);
    const set = (
      await c.ok("PUT", `/v2.0/quotas/${u.project}`, 200, { body: { quota: { network: 2, port: -1 } } })
    ).quota;
    assert.equal(set.network, 2);
    assert.equal(set.port, -1);
    assert.ok(
      (await c.ok("GET", "/v2.0/quotas", 200)).quotas.some(
        (x: { project_id: string }) => x.project_id === u.project,
      ),
    );
    neutronError(
      await c.req("PUT", `/v2.0/quotas/${u.project}`, { token: c.admin, body: { quota: { network: -2 } } }),
      400,
    );
    neutronError(
      await c.req("PUT", `/v2.0/quotas/${u.project}`, { token: c.admin, body: { quota: { routerz: 1 } } }),
      400,
    );
    neutronError(
      await c.req("PUT", `/v2.0/quotas/${u.project}`, { token: c.admin, body: { quota: { network: "x" } } }),
      400,
    );
    assert.equal((await c.req("DELETE", `/v2.0/quotas/${u.project}`, { token: c.admin })).status, 204);
    assert.equal((await c.ok("GET", `/v2.0/quotas/${u.project}`, 200)).quota.network, 100);
  });

  test("creates over the limit are 409 OverQuota, also when they race", async () => {
    const u = await c.user("quota-race");
    await c.ok("PUT", `/v2.0/quotas/${u.project}`, 200, { body: { quota: { network: 3, port: 2 } } });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        c.req("POST", "/v2.0/networks", { token: u.token, body: { network: { name: `race-${i}` } } }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 3);
    for (const r of results.filter((x) => x.status !== 201)) {
      neutronError(r, 409, "OverQuota");
      assert.equal(r.body.NeutronError.message, "Quota exceeded for resources: ['network'].");
    }
    const net = results.find((r) => r.status === 201)!.body.network.id;
    const ports = await Promise.all(
      Array.from({ length: 5 }, () =>
        c.req("POST", "/v2.0/ports", { token: u.token, body: { port: { network_id: net } } }),
      ),
    );
    assert.equal(ports.filter((r) => r.status === 201).length, 2);
  });
});

// Nova API quotas: quota sets per microversion, defaults, detail with usage, updates, classes and /limits.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "./helpers.js";

let c: ComputeCloud;
let demoProject: string;
let adminProject: string;
before(async () => {
  c = await bootCompute();
  demoProject = await c.t.projectId("demo");
  adminProject = await c.t.projectId("admin");
});
after(() => c.close());

test("quota set keys and defaults per microversion", async () => {
  const r = await c.req("GET", `/v2.1/os-quota-sets/${demoProject}`, { token: c.demo });
  assert.equal(r.status, 200);
  const q = r.body.quota_set;
  assert.equal(q.id, demoProject);
  assert.equal(q.instances, 10);
  assert.equal(q.cores, 20);
  assert.equal(q.ram, 51200);
  assert.equal(q.key_pairs, 100);
  assert.equal(q.metadata_items, 128);
  assert.equal(q.server_groups, 10);
  assert.equal(q.server_group_members, 10);
  assert.equal(q.floating_ips, 10);
  assert.equal(q.injected_files, 5);
  const v236 = (await c.req("GET", `/v2.1/os-quota-sets/${demoProject}`, { token: c.demo, mv: "2.36" })).body;
  assert.equal(v236.quota_set.floating_ips, undefined);
  assert.equal(v236.quota_set.security_groups, undefined);
  assert.equal(v236.quota_set.injected_files, 5);
  const v257 = (await c.req("GET", `/v2.1/os-quota-sets/${demoProject}`, { token: c.demo, mv: "2.57" })).body;
  assert.deepEqual(Object.keys(v257.quota_set).sort(), [
    "cores",
    "id",
    "instances",
    "key_pairs",
    "metadata_items",
    "ram",
    "server_group_members",
    "server_groups",
  ]);
  const d = await c.req("GET", `/v2.1/os-quota-sets/${demoProject}/defaults`, { token: c.demo, mv: "2.57" });
  assert.equal(d.status, 200);
  assert.equal(d.body.quota_set.instances, 10);
  const other = await c.req("GET", `/v2.1/os-quota-sets/${adminProject}`, { token: c.demo });
  assert.equal(other.status, 403);
  assert.equal(other.body.forbidden.code, 403);
});

test("detail counts key pairs of the user and server groups of the project", async () => {
  await c.req("POST", "/v2.1/os-keypairs", { token: c.demo, body: { keypair: { name: "qk" } } });
  await c.req("POST", "/v2.1/os-server-groups", {
    token: c.demo,
    body: { server_group: { name: "g", policies: ["affinity"] } },
  });
  const r = await c.req("GET", `/v2.1/os-quota-sets/${demoProject}/detail`, { token: c.demo, mv: "2.57" });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.quota_set.key_pairs, { in_use: 1, limit: 100, reserved: 0 });
  assert.deepEqual(r.body.quota_set.server_groups, { in_use: 1, limit: 10, reserved: 0 });
  assert.deepEqual(r.body.quota_set.instances, { in_use: 0, limit: 10, reserved: 0 });
  const lim = await c.req("GET", "/v2.1/limits", { token: c.demo, mv: "2.57" });
  assert.equal(lim.status, 200);
  assert.deepEqual(lim.body.limits.rate, []);
  const abs = lim.body.limits.absolute;
  assert.equal(abs.maxTotalInstances, 10);
  assert.equal(abs.maxTotalRAMSize, 51200);
  assert.equal(abs.totalServerGroupsUsed, 1);
  assert.equal(abs.maxPersonality, undefined);
  assert.equal(abs.maxTotalFloatingIps, undefined);
  const old = (await c.req("GET", "/v2.1/limits", { token: c.demo })).body.limits.absolute;
  assert.equal(old.maxTotalFloatingIps, 10);
  assert.equal(old.maxPersonality, 5);
  assert.equal(old.maxImageMeta, 128);
  const otherLimits = await c.req("GET", `/v2.1/limits?tenant_id=${adminProject}`, { token: c.demo });
  assert.equal(otherLimits.status, 403);
});

test("update is for admins, validates values, honours force, and delete reverts", async () => {
  const path = `/v2.1/os-quota-sets/${demoProject}`;
  const denied = await c.req("PUT", path, { token: c.demo, body: { quota_set: { instances: 5 } } });
  assert.equal(denied.status, 403);
  const r = await c.req("PUT", path, { token: c.admin, body: { quota_set: { instances: 50, cores: -1 } } });
  assert.equal(r.status, 200);
  assert.equal(r.body.quota_set.instances, 50);
  assert.equal(r.body.quota_set.cores, -1);
  assert.equal(r.body.quota_set.id, undefined);
  for (const quota_set of [{ instances: -2 }, { instances: "abc" }, { instances: 1.5 }, { bogus: 1 }]) {
    const bad = await c.req("PUT", path, { token: c.admin, body: { quota_set } });
    assert.equal(bad.status, 400, JSON.stringify(quota_set));
    assert.equal(bad.body.badRequest.code, 400);
  }
  const net = await c.req("PUT", path, {
    token: c.admin,
    mv: "2.36",
    body: { quota_set: { floating_ips: 1 } },
  });
  assert.equal(net.status, 400);
  // server_groups counts the project's groups (one made in the previous test), so 0 is below usage.
  const under = await c.req("PUT", path, { token: c.admin, body: { quota_set: { server_groups: 0 } } });
  assert.equal(under.status, 400);
  const forced = await c.req("PUT", path, {
    token: c.admin,
    body: { quota_set: { server_groups: 0, force: true } },
  });
  assert.equal(forced.status, 200);
  assert.equal(forced.body.quota_set.server_groups, 0);
  assert.equal((await c.req("DELETE", path, { token: c.demo })).status, 403);
  assert.equal((await c.req("DELETE", path, { token: c.admin })).status, 202);
  const back = await c.req("GET", path, { token: c.demo });
  assert.equal(back.body.quota_set.instances, 10);
  assert.equal(back.body.quota_set.server_groups, 10);
});

test("quota class default: admins read and update; the project defaults follow", async () => {
  const r = await c.req("GET", "/v2.1/os-quota-class-sets/default", { token: c.admin, mv: "2.57" });
  assert.equal(r.status, 200);
  assert.equal(r.body.quota_class_set.id, "default");
  assert.equal(r.body.quota_class_set.server_groups, 10);
  assert.equal(r.body.quota_class_set.injected_files, undefined);
  const old = await c.req("GET", "/v2.1/os-quota-class-sets/default", { token: c.admin });
  assert.equal(old.body.quota_class_set.server_groups, undefined);
  assert.equal(old.body.quota_class_set.floating_ips, 10);
  assert.equal((await c.req("GET", "/v2.1/os-quota-class-sets/default", { token: c.demo })).status, 403);
  const denied = await c.req("PUT", "/v2.1/os-quota-class-sets/default", {
    token: c.demo,
    body: { quota_class_set: { instances: 7 } },
  });
  assert.equal(denied.status, 403);
  const bad = await c.req("PUT", "/v2.1/os-quota-class-sets/default", {
    token: c.admin,
    body: { quota_class_set: { instances: -5 } },
  });
  assert.equal(bad.status, 400);
  const up = await c.req("PUT", "/v2.1/os-quota-class-sets/default", {
    token: c.admin,
    body: { quota_class_set: { instances: 7 } },
  });
  assert.equal(up.status, 200);
  assert.equal(up.body.quota_class_set.instances, 7);
  const d = await c.req("GET", `/v2.1/os-quota-sets/${demoProject}/defaults`, { token: c.demo });
  assert.equal(d.body.quota_set.instances, 7);
  await c.req("PUT", "/v2.1/os-quota-class-sets/default", {
    token: c.admin,
    body: { quota_class_set: { instances: 10 } },
  });
});

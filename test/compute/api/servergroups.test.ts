// Nova API server groups: policies below 2.64, policy and rules from 2.64, listing, quota, deletion.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "./helpers.js";

let c: ComputeCloud;
before(async () => {
  c = await bootCompute();
});
after(() => c.close());

const create = (token: string, server_group: unknown, mv?: string) =>
  c.req("POST", "/v2.1/os-server-groups", { token, body: { server_group }, ...(mv ? { mv } : {}) });

test("create, show, list and delete with policies below 2.64", async () => {
  const r = await create(c.demo, { name: "web", policies: ["anti-affinity"] });
  assert.equal(r.status, 200);
  const g = r.body.server_group;
  assert.match(g.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(g.policies, ["anti-affinity"]);
  assert.deepEqual(g.members, []);
  assert.deepEqual(g.metadata, {});
  assert.equal(g.project_id, undefined);
  const shown = await c.req("GET", `/v2.1/os-server-groups/${g.id}`, { token: c.demo, mv: "2.13" });
  assert.equal(shown.status, 200);
  assert.equal(shown.body.server_group.project_id, await c.t.projectId("demo"));
  assert.equal(shown.body.server_group.user_id, await c.t.userId("demo"));
  const list = await c.req("GET", "/v2.1/os-server-groups", { token: c.demo });
  assert.deepEqual(
    list.body.server_groups.map((s: any) => s.name),
    ["web"],
  );
  assert.equal((await c.req("GET", `/v2.1/os-server-groups/${g.id}`, { token: c.admin })).status, 200);
  assert.equal((await c.req("DELETE", `/v2.1/os-server-groups/${g.id}`, { token: c.demo })).status, 204);
  const gone = await c.req("GET", `/v2.1/os-server-groups/${g.id}`, { token: c.demo });
  assert.equal(gone.status, 404);
  assert.equal(gone.body.itemNotFound.code, 404);
  assert.equal((await c.req("DELETE", `/v2.1/os-server-groups/${g.id}`, { token: c.demo })).status, 404);
});

test("bad bodies are 400; soft policies from 2.15; policy and rules from 2.64", async () => {
  for (const [sg, mv] of [
    [{ name: "x", policies: ["soft-affinity"] }, "2.14"],
    [{ name: "x", policies: ["affinity", "anti-affinity"] }, "2.1"],
    [{ name: "", policies: ["affinity"] }, "2.1"],
    [{ name: "x", policies: ["bogus"] }, "2.1"],
    [{ name: "x", policy: "affinity" }, "2.1"],
    [{ name: "x", policies: ["affinity"] }, "2.64"],
    [{ name: "x", policy: "affinity", rules: { max_server_per_host: 2 } }, "2.64"],
    [{ name: "x", policy: "anti-affinity", rules: { max_server_per_host: 0 } }, "2.64"],
    [{ name: "x", policy: "anti-affinity", rules: { other: 1 } }, "2.64"],
  ] as Array<[unknown, string]>) {
    const r = await create(c.demo, sg, mv);
    assert.equal(r.status, 400, JSON.stringify([sg, mv]));
    assert.equal(r.body.badRequest.code, 400);
  }
  const soft = await create(c.demo, { name: "s", policies: ["soft-anti-affinity"] }, "2.15");
  assert.equal(soft.status, 200);
  const r = await create(
    c.demo,
    { name: "n", policy: "anti-affinity", rules: { max_server_per_host: 3 } },
    "2.64",
  );
  assert.equal(r.status, 200);
  assert.equal(r.body.server_group.policy, "anti-affinity");
  assert.deepEqual(r.body.server_group.rules, { max_server_per_host: 3 });
  assert.equal(r.body.server_group.policies, undefined);
  assert.equal(r.body.server_group.metadata, undefined);
  const old = await c.req("GET", `/v2.1/os-server-groups/${r.body.server_group.id}`, { token: c.demo });
  assert.deepEqual(old.body.server_group.policies, ["anti-affinity"]);
  for (const id of [soft.body.server_group.id, r.body.server_group.id])
    await c.req("DELETE", `/v2.1/os-server-groups/${id}`, { token: c.demo });
});

test("all_projects for admins, limit and offset, other projects' groups are hidden", async () => {
  const a = await create(c.admin, { name: "a1", policies: ["affinity"] });
  await create(c.demo, { name: "d1", policies: ["affinity"] });
  await create(c.demo, { name: "d2", policies: ["affinity"] });
  const names = async (token: string, q: string) =>
    (await c.req("GET", `/v2.1/os-server-groups${q}`, { token })).body.server_groups.map((s: any) => s.name);
  assert.deepEqual(await names(c.admin, ""), ["a1"]);
  assert.deepEqual(await names(c.admin, "?all_projects=True"), ["a1", "d1", "d2"]);
  assert.deepEqual(await names(c.demo, "?all_projects=True"), ["d1", "d2"]);
  assert.deepEqual(await names(c.admin, "?all_projects=True&limit=1&offset=1"), ["d1"]);
  const bad = await c.req("GET", "/v2.1/os-server-groups?limit=-1", { token: c.demo });
  assert.equal(bad.status, 400);
  const hidden = await c.req("GET", `/v2.1/os-server-groups/${a.body.server_group.id}`, { token: c.demo });
  assert.equal(hidden.status, 403);
  assert.equal(
    (await c.req("DELETE", `/v2.1/os-server-groups/${a.body.server_group.id}`, { token: c.demo })).status,
    403,
  );
});

test("the server_groups quota is enforced with 403", async () => {
  const project = await c.t.projectId("demo");
  const put = await c.req("PUT", `/v2.1/os-quota-sets/${project}`, {
    token: c.admin,
    body: { quota_set: { server_groups: 2, force: true } },
  });
  assert.equal(put.status, 200);
  const over = await create(c.demo, { name: "d3", policies: ["affinity"] });
  assert.equal(over.status, 403);
  assert.equal(over.body.forbidden.code, 403);
  assert.match(over.body.forbidden.message, /Quota exceeded/);
  await c.req("PUT", `/v2.1/os-quota-sets/${project}`, {
    token: c.admin,
    body: { quota_set: { server_groups: -1 } },
  });
  assert.equal((await create(c.demo, { name: "d3", policies: ["affinity"] })).status, 200);
});

// /v3/groups: CRUD, list filters, membership.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootCloud, isKeystoneError, type TestCloud } from "../../helpers/cloud.js";

let c: TestCloud;
let admin: string;

before(async () => {
  c = await bootCloud();
  admin = await c.adminToken();
});
after(() => c.close());

const create = (body: Record<string, unknown>) =>
  c.req("POST", "/v3/groups", { token: admin, body: { group: body } });

describe("groups", () => {
  test("create returns 201 with Keystone's group shape", async () => {
    const r = await create({ name: "g-shape", description: "d", ticket: "T-1" });
    assert.equal(r.status, 201);
    const g = r.body.group;
    assert.match(g.id, /^[0-9a-f]{32}$/);
    assert.equal(g.name, "g-shape");
    assert.equal(g.domain_id, "default");
    assert.equal(g.description, "d");
    assert.equal(g.ticket, "T-1");
    assert.equal(g.links.self, `http://localhost:80/identity/v3/groups/${g.id}`);
    const got = await c.req("GET", `/v3/groups/${g.id}`, { token: admin });
    assert.deepEqual(got.body.group, g);
  });

  test("duplicates are 409; unknown domains and groups 404", async () => {
    assert.equal((await create({ name: "g-dup" })).status, 201);
    const r = await create({ name: "g-dup" });
    assert.equal(r.status, 409);
    assert.ok(isKeystoneError(r.body, 409));
    // Keystone (and tempest's negative tests): an unknown domain is a 404.
    assert.equal((await create({ name: "g-nodom", domain_id: "no-such-domain" })).status, 404);
    assert.equal((await c.req("GET", "/v3/groups/nope", { token: admin })).status, 404);
    assert.equal((await c.req("DELETE", "/v3/groups/nope", { token: admin })).status, 404);
  });

  test("list with name and domain_id filters", async () => {
    const d = await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "g-dom" } } });
    await create({ name: "g-in-dom", domain_id: d.body.domain.id });
    const all = await c.req("GET", "/v3/groups", { token: admin });
    assert.equal(all.status, 200);
    assert.ok(all.body.groups.length >= 1);
    const inDom = await c.req("GET", `/v3/groups?domain_id=${d.body.domain.id}`, { token: admin });
    assert.deepEqual(
      inDom.body.groups.map((g: { name: string }) => g.name),
      ["g-in-dom"],
    );
    const byName = await c.req("GET", "/v3/groups?name=g-in-dom", { token: admin });
    assert.equal(byName.body.groups.length, 1);
  });

  test("update and delete", async () => {
    const g = (await create({ name: "g-upd" })).body.group;
    const r = await c.req("PATCH", `/v3/groups/${g.id}`, {
      token: admin,
      body: { group: { name: "g-upd2", description: "new" } },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.group.name, "g-upd2");
    assert.equal(r.body.group.description, "new");
    assert.equal((await c.req("DELETE", `/v3/groups/${g.id}`, { token: admin })).status, 204);
    assert.equal((await c.req("GET", `/v3/groups/${g.id}`, { token: admin })).status, 404);
  });

  test("membership: add, check, list, remove", async () => {
    const g = (await create({ name: "g-members" })).body.group;
    const u = await c.createUser("g-member", "g-member-secret");
    const base = `/v3/groups/${g.id}/users`;
    assert.equal((await c.req("HEAD", `${base}/${u.id}`, { token: admin })).status, 404);
    const add = await c.req("PUT", `${base}/${u.id}`, { token: admin });
    assert.equal(add.status, 204);
    assert.equal((await c.req("PUT", `${base}/${u.id}`, { token: admin })).status, 204);
    assert.equal((await c.req("HEAD", `${base}/${u.id}`, { token: admin })).status, 204);
    assert.equal((await c.req("GET", `${base}/${u.id}`, { token: admin })).status, 204);
    const list = await c.req("GET", base, { token: admin });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.users.map((x: { id: string }) => x.id),
      [u.id],
    );
    assert.ok(
      !list.text.includes("g-member-secret") &&
        !list.text.includes('"password"') &&
        !list.text.includes("password_hash"),
    );
    const mine = await c.req("GET", `/v3/users/${u.id}/groups`, { token: admin });
    assert.deepEqual(
      mine.body.groups.map((x: { id: string }) => x.id),
      [g.id],
    );
    assert.equal((await c.req("DELETE", `${base}/${u.id}`, { token: admin })).status, 204);
    assert.equal((await c.req("DELETE", `${base}/${u.id}`, { token: admin })).status, 404);
    assert.deepEqual((await c.req("GET", base, { token: admin })).body.users, []);
    assert.equal((await c.req("PUT", `${base}/nope`, { token: admin })).status, 404);
    assert.equal((await c.req("PUT", `/v3/groups/nope/users/${u.id}`, { token: admin })).status, 404);
  });

  test("deleting a group removes its memberships", async () => {
    const g = (await create({ name: "g-gone" })).body.group;
    const u = await c.createUser("g-gone-member", "g-gone-secret");
    await c.req("PUT", `/v3/groups/${g.id}/users/${u.id}`, { token: admin });
    await c.req("DELETE", `/v3/groups/${g.id}`, { token: admin });
    assert.deepEqual((await c.req("GET", `/v3/users/${u.id}/groups`, { token: admin })).body.groups, []);
  });

  test("members cannot manage groups", async () => {
    const demo = await c.demoToken();
    const g = (await create({ name: "g-policy" })).body.group;
    assert.equal(
      (await c.req("POST", "/v3/groups", { token: demo, body: { group: { name: "by-demo" } } })).status,
      403,
    );
    assert.equal((await c.req("GET", "/v3/groups", { token: demo })).status, 403);
    assert.equal((await c.req("GET", `/v3/groups/${g.id}`, { token: demo })).status, 403);
    const demoId = await c.userId("demo");
    assert.equal((await c.req("PUT", `/v3/groups/${g.id}/users/${demoId}`, { token: demo })).status, 403);
  });
});

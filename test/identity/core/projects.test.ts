// /v3/projects: CRUD, hierarchy (parent_id, subtree/parents queries), tags and tag filters.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootCloud, isKeystoneError, type TestCloud } from "../../helpers/cloud.js";

let c: TestCloud;
let admin: string;
let adminRole: string;

before(async () => {
  c = await bootCloud();
  admin = await c.adminToken();
  adminRole = await c.roleId("admin");
});
after(() => c.close());

const create = (body: Record<string, unknown>) =>
  c.req("POST", "/v3/projects", { token: admin, body: { project: body } });
const get = (id: string, q = "") => c.req("GET", `/v3/projects/${id}${q}`, { token: admin });
const ids = (r: { body: { projects: Array<{ id: string }> } }) => r.body.projects.map((p) => p.id).sort();

describe("projects", () => {
  test("create returns 201 with Keystone's project shape; domain defaults to the caller's", async () => {
    const r = await create({ name: "p-shape", description: "d", tags: ["a"] });
    assert.equal(r.status, 201);
    const p = r.body.project;
    assert.match(p.id, /^[0-9a-f]{32}$/);
    assert.equal(p.name, "p-shape");
    assert.equal(p.domain_id, "default");
    assert.equal(p.parent_id, "default");
    assert.equal(p.is_domain, false);
    assert.equal(p.enabled, true);
    assert.equal(p.description, "d");
    assert.deepEqual(p.tags, ["a"]);
    assert.deepEqual(p.options, {});
    assert.equal(p.links.self, `http://localhost:80/identity/v3/projects/${p.id}`);
    const g = await get(p.id);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body.project, p);
  });

  test("without domain_id: the token's domain if domain-scoped, else Default", async () => {
    const d = (await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "p-home-dom" } } }))
      .body.domain;
    const p = (await create({ name: "p-home", domain_id: d.id })).body.project;
    const me = await c.userId("admin");
    await c.req("PUT", `/v3/projects/${p.id}/users/${me}/roles/${adminRole}`, { token: admin });
    await c.req("PUT", `/v3/domains/${d.id}/users/${me}/roles/${adminRole}`, { token: admin });
    // The admin project's token (cloud admin); a project admin elsewhere may not create projects at all.
    const projectScoped = await c.token("admin", c.cloud.adminPassword, { project: { id: p.id } });
    const denied = await c.req("POST", "/v3/projects", {
      token: projectScoped,
      body: { project: { name: "p-home-0" } },
    });
    assert.equal(denied.status, 403);
    const r1 = await c.req("POST", "/v3/projects", {
      token: admin,
      body: { project: { name: "p-home-1" } },
    });
    assert.equal(r1.status, 201);
    assert.equal(r1.body.project.domain_id, "default");
    const domainScoped = await c.token("admin", c.cloud.adminPassword, { domain: { id: d.id } });
    const r2 = await c.req("POST", "/v3/projects", {
      token: domainScoped,
      body: { project: { name: "p-home-2" } },
    });
    assert.equal(r2.status, 201);
    assert.equal(r2.body.project.domain_id, d.id);
  });

  test("extra attributes are kept", async () => {
    const r = await create({ name: "p-extra", cost_center: "42" });
    assert.equal(r.body.project.cost_center, "42");
    assert.equal((await get(r.body.project.id)).body.project.cost_center, "42");
    const u = await c.req("PATCH", `/v3/projects/${r.body.project.id}`, {
      token: admin,
      body: { project: { owner: "me" } },
    });
    assert.equal(u.body.project.cost_center, "42");
    assert.equal(u.body.project.owner, "me");
  });

  test("duplicate names in a domain are 409, in another domain fine", async () => {
    assert.equal((await create({ name: "p-dup" })).status, 201);
    const r = await create({ name: "p-dup" });
    assert.equal(r.status, 409);
    assert.ok(isKeystoneError(r.body, 409));
    const d = await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "p-dup-dom" } } });
    assert.equal((await create({ name: "p-dup", domain_id: d.body.domain.id })).status, 201);
    const parent = (await create({ name: "p-dup-parent" })).body.project;
    assert.equal((await create({ name: "p-dup", parent_id: parent.id })).status, 409);
  });

  test("an unknown domain or parent is rejected", async () => {
    const r = await create({ name: "p-nodom", domain_id: "no-such-domain" });
    assert.ok([400, 404].includes(r.status), String(r.status));
    const r2 = await create({ name: "p-noparent", parent_id: "no-such-parent" });
    assert.ok([400, 404].includes(r2.status), String(r2.status));
  });

  test("get unknown is 404; list filters by name, domain_id, enabled and parent_id", async () => {
    assert.equal((await get("nope")).status, 404);
    const a = (await create({ name: "p-filter-a", enabled: false })).body.project;
    const b = (await create({ name: "p-filter-b", parent_id: a.id, enabled: false })).body.project;
    assert.deepEqual(ids(await c.req("GET", "/v3/projects?name=p-filter-a", { token: admin })), [a.id]);
    assert.deepEqual(ids(await c.req("GET", `/v3/projects?parent_id=${a.id}`, { token: admin })), [b.id]);
    const off = await c.req("GET", "/v3/projects?enabled=false", { token: admin });
    assert.ok(ids(off).includes(a.id) && ids(off).includes(b.id));
    assert.ok(off.body.projects.every((p: { enabled: boolean }) => !p.enabled));
    const inDefault = await c.req("GET", "/v3/projects?domain_id=default", { token: admin });
    assert.ok(inDefault.body.projects.every((p: { domain_id: string }) => p.domain_id === "default"));
    assert.ok(ids(inDefault).includes(a.id));
  });

  test("update name, description, enabled; domain_id cannot change (400), parent_id cannot change (403)", async () => {
    const p = (await create({ name: "p-upd" })).body.project;
    const r = await c.req("PATCH", `/v3/projects/${p.id}`, {
      token: admin,
      body: { project: { name: "p-upd2", description: "x", enabled: false } },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.project.name, "p-upd2");
    assert.equal(r.body.project.enabled, false);
    const other = (await create({ name: "p-upd-other" })).body.project;
    const d = await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "p-upd-dom" } } });
    assert.equal(
      (
        await c.req("PATCH", `/v3/projects/${p.id}`, {
          token: admin,
          body: { project: { domain_id: d.body.domain.id } },
        })
      ).status,
      400,
    );
    assert.equal(
      (
        await c.req("PATCH", `/v3/projects/${p.id}`, {
          token: admin,
          body: { project: { parent_id: other.id } },
        })
      ).status,
      403,
    );
    assert.equal(
      (
        await c.req("PATCH", `/v3/projects/${p.id}`, {
          token: admin,
          body: { project: { name: "p-upd-other" } },
        })
      ).status,
      409,
    );
    assert.equal(
      (await c.req("PATCH", "/v3/projects/nope", { token: admin, body: { project: { name: "x" } } })).status,
      404,
    );
  });

  test("delete: 204, then 404; a project with children cannot be deleted (403)", async () => {
    const parent = (await create({ name: "p-del-parent" })).body.project;
    const child = (await create({ name: "p-del-child", parent_id: parent.id })).body.project;
    const refused = await c.req("DELETE", `/v3/projects/${parent.id}`, { token: admin });
    assert.equal(refused.status, 403);
    assert.ok(isKeystoneError(refused.body, 403));
    assert.equal((await c.req("DELETE", `/v3/projects/${child.id}`, { token: admin })).status, 204);
    assert.equal((await c.req("DELETE", `/v3/projects/${parent.id}`, { token: admin })).status, 204);
    assert.equal((await get(parent.id)).status, 404);
    assert.equal((await c.req("DELETE", `/v3/projects/${parent.id}`, { token: admin })).status, 404);
  });
});

describe("project hierarchy", () => {
  let a: any, b: any, c1: any, c2: any;
  before(async () => {
    a = (await create({ name: "h-a" })).body.project;
    b = (await create({ name: "h-b", parent_id: a.id })).body.project;
    c1 = (await create({ name: "h-c1", parent_id: b.id })).body.project;
    c2 = (await create({ name: "h-c2", parent_id: b.id })).body.project;
    // Full access, so that the access-filtered list forms show everything.
    const me = await c.userId("admin");
    for (const p of [a, b, c1, c2])
      await c.req("PUT", `/v3/projects/${p.id}/users/${me}/roles/${adminRole}`, { token: admin });
  });

  test("children take their parent's domain and parent_id", () => {
    assert.equal(b.parent_id, a.id);
    assert.equal(b.domain_id, "default");
    assert.equal(c1.parent_id, b.id);
  });

  test("a child cannot be created in another domain than its parent's", async () => {
    const d = await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "h-other" } } });
    const r = await create({ name: "h-bad", parent_id: a.id, domain_id: d.body.domain.id });
    assert.equal(r.status, 400);
  });

  test("?subtree_as_ids and ?parents_as_ids", async () => {
    const s = await get(a.id, "?subtree_as_ids");
    assert.equal(s.status, 200);
    assert.deepEqual(s.body.project.subtree, { [b.id]: { [c1.id]: null, [c2.id]: null } });
    const leaf = await get(c1.id, "?subtree_as_ids");
    assert.equal(leaf.body.project.subtree, null);
    const p = await get(c1.id, "?parents_as_ids");
    // Keystone includes the project acting as the domain at the top of the chain.
    assert.deepEqual(p.body.project.parents, { [b.id]: { [a.id]: { default: null } } });
    const top = await get(a.id, "?parents_as_ids");
    assert.deepEqual(top.body.project.parents, { default: null });
  });

  test("?subtree_as_list and ?parents_as_list", async () => {
    const s = await get(a.id, "?subtree_as_list");
    assert.equal(s.status, 200);
    assert.deepEqual(
      s.body.project.subtree.map((x: { project: { id: string } }) => x.project.id).sort(),
      [b.id, c1.id, c2.id].sort(),
    );
    const p = await get(c1.id, "?parents_as_list");
    assert.deepEqual(
      p.body.project.parents.map((x: { project: { id: string } }) => x.project.id).sort(),
      [a.id, b.id].sort(),
    );
    for (const x of p.body.project.parents) assert.equal(typeof x.project.name, "string");
  });

  test("parents_as_list with parents_as_ids (or the subtree pair) is 400", async () => {
    assert.equal((await get(c1.id, "?parents_as_list&parents_as_ids")).status, 400);
    assert.equal((await get(a.id, "?subtree_as_list&subtree_as_ids")).status, 400);
  });

  test("a parent with enabled children cannot be disabled (403)", async () => {
    const r = await c.req("PATCH", `/v3/projects/${a.id}`, {
      token: admin,
      body: { project: { enabled: false } },
    });
    assert.equal(r.status, 403);
  });

  test("a project cannot be enabled while a parent is disabled (403)", async () => {
    const parent = (await create({ name: "h-en-parent" })).body.project;
    const kid = (await create({ name: "h-en-kid", parent_id: parent.id, enabled: false })).body.project;
    assert.equal(
      (
        await c.req("PATCH", `/v3/projects/${parent.id}`, {
          token: admin,
          body: { project: { enabled: false } },
        })
      ).status,
      200,
    );
    const r = await c.req("PATCH", `/v3/projects/${kid.id}`, {
      token: admin,
      body: { project: { enabled: true } },
    });
    assert.equal(r.status, 403);
    assert.ok(isKeystoneError(r.body, 403));
    assert.equal(
      (
        await c.req("PATCH", `/v3/projects/${parent.id}`, {
          token: admin,
          body: { project: { enabled: true } },
        })
      ).status,
      200,
    );
    assert.equal(
      (await c.req("PATCH", `/v3/projects/${kid.id}`, { token: admin, body: { project: { enabled: true } } }))
        .status,
      200,
    );
  });

  test("an enabled project cannot be created under a disabled one", async () => {
    const off = (await create({ name: "h-off", enabled: false })).body.project;
    assert.equal((await create({ name: "h-under-off", parent_id: off.id })).status, 403);
    assert.equal((await create({ name: "h-under-off2", parent_id: off.id, enabled: false })).status, 201);
  });
});

describe("project tags", () => {
  test("PUT/GET/HEAD/DELETE single tags and the whole list", async () => {
    const p = (await create({ name: "t-proj" })).body.project;
    const base = `/v3/projects/${p.id}/tags`;
    const put = await c.req("PUT", `${base}/blue`, { token: admin });
    assert.equal(put.status, 201);
    // Keystone: adding a tag the project already has is a 400 (the tag list must stay unique).
    assert.equal((await c.req("PUT", `${base}/blue`, { token: admin })).status, 400);
    assert.equal((await c.req("GET", `${base}/blue`, { token: admin })).status, 204);
    assert.equal((await c.req("HEAD", `${base}/blue`, { token: admin })).status, 204);
    const missing = await c.req("GET", `${base}/red`, { token: admin });
    assert.equal(missing.status, 404);
    assert.ok(isKeystoneError(missing.body, 404));
    assert.equal((await c.req("HEAD", `${base}/red`, { token: admin })).status, 404);
    assert.deepEqual((await c.req("GET", base, { token: admin })).body.tags, ["blue"]);
    assert.equal((await c.req("PUT", base, { token: admin, body: { tags: ["x", "y", "x"] } })).status, 400);
    const replace = await c.req("PUT", base, { token: admin, body: { tags: ["x", "y"] } });
    assert.equal(replace.status, 200);
    assert.deepEqual([...replace.body.tags].sort(), ["x", "y"]);
    assert.deepEqual([...(await get(p.id)).body.project.tags].sort(), ["x", "y"]);
    assert.equal((await c.req("DELETE", `${base}/x`, { token: admin })).status, 204);
    assert.equal((await c.req("DELETE", `${base}/x`, { token: admin })).status, 404);
    assert.deepEqual((await c.req("GET", base, { token: admin })).body.tags, ["y"]);
    assert.equal((await c.req("DELETE", base, { token: admin })).status, 204);
    assert.deepEqual((await c.req("GET", base, { token: admin })).body.tags, []);
    assert.equal((await c.req("GET", "/v3/projects/nope/tags", { token: admin })).status, 404);
  });

  test("invalid tags are 400", async () => {
    const p = (await create({ name: "t-bad" })).body.project;
    for (const tags of [
      ["a,b"],
      ["a/b"],
      ["x".repeat(256)],
      Array.from({ length: 81 }, (_, i) => `t${i}`),
      [""],
      "a",
    ]) {
      const r = await c.req("PUT", `/v3/projects/${p.id}/tags`, { token: admin, body: { tags } });
      assert.equal(r.status, 400, JSON.stringify(tags).slice(0, 60));
    }
    assert.equal((await c.req("PUT", `/v3/projects/${p.id}/tags/a%2Cb`, { token: admin })).status, 400);
    assert.equal((await create({ name: "t-bad2", tags: ["a,b"] })).status, 400);
  });

  test("tags, tags-any, not-tags and not-tags-any filters", async () => {
    const ab = (await create({ name: "f-ab", tags: ["fa", "fb"] })).body.project;
    const a = (await create({ name: "f-a", tags: ["fa"] })).body.project;
    const bc = (await create({ name: "f-bc", tags: ["fb", "fc"] })).body.project;
    const none = (await create({ name: "f-none", tags: [] })).body.project;
    const mine = new Set([ab.id, a.id, bc.id, none.id]);
    const q = async (query: string) =>
      ids(await c.req("GET", `/v3/projects?${query}`, { token: admin })).filter((id) => mine.has(id));
    assert.deepEqual(await q("tags=fa"), [ab.id, a.id].sort());
    assert.deepEqual(await q("tags=fa,fb"), [ab.id]);
    assert.deepEqual(await q("tags-any=fa,fc"), [ab.id, a.id, bc.id].sort());
    assert.deepEqual(await q("not-tags=fa,fb"), [a.id, bc.id, none.id].sort());
    assert.deepEqual(await q("not-tags-any=fa,fc"), [none.id]);
    assert.deepEqual(await q("tags=fb&not-tags=fc"), [ab.id]);
    assert.deepEqual(await q("tags=nosuchtag"), []);
  });
});

describe("projects and policy", () => {
  test("a member may show their own project, not another", async () => {
    const demo = await c.demoToken();
    const demoId = await c.projectId("demo");
    const adminId = await c.projectId("admin");
    assert.equal((await c.req("GET", `/v3/projects/${demoId}`, { token: demo })).status, 200);
    assert.equal((await c.req("GET", `/v3/projects/${adminId}`, { token: demo })).status, 403);
    assert.equal((await c.req("GET", "/v3/projects", { token: demo })).status, 403);
    assert.equal(
      (await c.req("POST", "/v3/projects", { token: demo, body: { project: { name: "by-demo" } } })).status,
      403,
    );
    assert.equal(
      (
        await c.req("PATCH", `/v3/projects/${demoId}`, {
          token: demo,
          body: { project: { description: "x" } },
        })
      ).status,
      403,
    );
    assert.equal((await c.req("DELETE", `/v3/projects/${demoId}`, { token: demo })).status, 403);
  });
});

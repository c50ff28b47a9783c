// /v3/domains: create, list filters, show, update, delete rules, and domains as is_domain projects.
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
  c.req("POST", "/v3/domains", { token: admin, body: { domain: body } });

describe("domains", () => {
  test("create returns 201 with Keystone's domain shape", async () => {
    const r = await create({ name: "dom-shape", description: "a domain", tags: ["x"] });
    assert.equal(r.status, 201);
    const d = r.body.domain;
    assert.match(d.id, /^[0-9a-f]{32}$/);
    assert.equal(d.name, "dom-shape");
    assert.equal(d.description, "a domain");
    assert.equal(d.enabled, true);
    assert.deepEqual(d.tags, ["x"]);
    assert.deepEqual(d.options, {});
    assert.equal(d.links.self, `http://localhost:80/identity/v3/domains/${d.id}`);
    assert.ok(!("domain_id" in d) && !("parent_id" in d));
  });

  test("explicit_domain_id sets the id", async () => {
    const r = await create({ name: "dom-explicit", explicit_domain_id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0" });
    assert.equal(r.status, 201);
    assert.equal(r.body.domain.id, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  });

  test("a duplicate name is 409", async () => {
    assert.equal((await create({ name: "dom-dup" })).status, 201);
    const r = await create({ name: "dom-dup" });
    assert.equal(r.status, 409);
    assert.ok(isKeystoneError(r.body, 409));
    assert.equal((await create({ name: "Default" })).status, 409);
  });

  test("a missing or blank name is 400", async () => {
    for (const body of [
      {},
      { name: "" },
      { name: "   " },
      { name: "x".repeat(256) },
      { name: "ok", enabled: "yes" },
    ]) {
      const r = await create(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(isKeystoneError(r.body, 400));
    }
  });

  test("list, with name and enabled filters", async () => {
    await create({ name: "dom-off", enabled: false });
    const all = await c.req("GET", "/v3/domains", { token: admin });
    assert.equal(all.status, 200);
    const names = all.body.domains.map((d: { name: string }) => d.name);
    assert.ok(names.includes("Default") && names.includes("dom-off"));
    assert.equal(typeof all.body.links.self, "string");
    const byName = await c.req("GET", "/v3/domains?name=Default", { token: admin });
    assert.deepEqual(
      byName.body.domains.map((d: { id: string }) => d.id),
      ["default"],
    );
    const off = await c.req("GET", "/v3/domains?enabled=false", { token: admin });
    assert.ok(off.body.domains.every((d: { enabled: boolean }) => !d.enabled));
    assert.ok(off.body.domains.some((d: { name: string }) => d.name === "dom-off"));
    const on = await c.req("GET", "/v3/domains?enabled=true", { token: admin });
    assert.ok(on.body.domains.every((d: { enabled: boolean }) => d.enabled));
  });

  test("show, and 404 for unknown domains and for projects", async () => {
    const r = await c.req("GET", "/v3/domains/default", { token: admin });
    assert.equal(r.status, 200);
    assert.equal(r.body.domain.id, "default");
    const missing = await c.req("GET", "/v3/domains/nope", { token: admin });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, "Could not find domain: nope.");
    const demo = await c.projectId("demo");
    assert.equal((await c.req("GET", `/v3/domains/${demo}`, { token: admin })).status, 404);
  });

  test("a user in a domain may show their own domain", async () => {
    const demo = await c.demoToken();
    assert.equal((await c.req("GET", "/v3/domains/default", { token: demo })).status, 200);
    const other = await create({ name: "dom-notmine" });
    assert.equal((await c.req("GET", `/v3/domains/${other.body.domain.id}`, { token: demo })).status, 403);
  });

  test("update name, description, enabled and extra attributes", async () => {
    const d = (await create({ name: "dom-upd" })).body.domain;
    const r = await c.req("PATCH", `/v3/domains/${d.id}`, {
      token: admin,
      body: { domain: { name: "dom-upd2", description: "new", enabled: false, color: "blue" } },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.domain.name, "dom-upd2");
    assert.equal(r.body.domain.description, "new");
    assert.equal(r.body.domain.enabled, false);
    assert.equal(r.body.domain.color, "blue");
    const g = await c.req("GET", `/v3/domains/${d.id}`, { token: admin });
    assert.equal(g.body.domain.color, "blue");
    const dup = await c.req("PATCH", `/v3/domains/${d.id}`, {
      token: admin,
      body: { domain: { name: "Default" } },
    });
    assert.equal(dup.status, 409);
  });

  test("an enabled domain cannot be deleted (403); a disabled one is deleted with its contents", async () => {
    const d = (await create({ name: "dom-del" })).body.domain;
    const p = await c.req("POST", "/v3/projects", {
      token: admin,
      body: { project: { name: "inner", domain_id: d.id } },
    });
    const child = await c.req("POST", "/v3/projects", {
      token: admin,
      body: { project: { name: "inner-child", parent_id: p.body.project.id } },
    });
    const u = await c.req("POST", "/v3/users", {
      token: admin,
      body: { user: { name: "inner", domain_id: d.id } },
    });
    const g = await c.req("POST", "/v3/groups", {
      token: admin,
      body: { group: { name: "inner", domain_id: d.id } },
    });
    const r = await c.req("POST", "/v3/roles", {
      token: admin,
      body: { role: { name: "inner", domain_id: d.id } },
    });
    for (const x of [p, child, u, g, r]) assert.equal(x.status, 201, x.text);
    const refused = await c.req("DELETE", `/v3/domains/${d.id}`, { token: admin });
    assert.equal(refused.status, 403);
    assert.ok(isKeystoneError(refused.body, 403));
    assert.equal(
      (await c.req("PATCH", `/v3/domains/${d.id}`, { token: admin, body: { domain: { enabled: false } } }))
        .status,
      200,
    );
    const del = await c.req("DELETE", `/v3/domains/${d.id}`, { token: admin });
    assert.equal(del.status, 204);
    assert.equal(del.text, "");
    assert.equal((await c.req("GET", `/v3/domains/${d.id}`, { token: admin })).status, 404);
    assert.equal((await c.req("GET", `/v3/projects/${p.body.project.id}`, { token: admin })).status, 404);
    assert.equal((await c.req("GET", `/v3/projects/${child.body.project.id}`, { token: admin })).status, 404);
    assert.equal((await c.req("GET", `/v3/users/${u.body.user.id}`, { token: admin })).status, 404);
    assert.equal((await c.req("GET", `/v3/groups/${g.body.group.id}`, { token: admin })).status, 404);
    assert.equal((await c.req("GET", `/v3/roles/${r.body.role.id}`, { token: admin })).status, 404);
    assert.equal((await c.req("DELETE", `/v3/domains/${d.id}`, { token: admin })).status, 404);
  });

  test("a project created with is_domain=true is a domain", async () => {
    const r = await c.req("POST", "/v3/projects", {
      token: admin,
      body: { project: { name: "dom-as-project", is_domain: true } },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.project.is_domain, true);
    assert.equal(r.body.project.domain_id, null);
    assert.equal(r.body.project.parent_id, null);
    const d = await c.req("GET", `/v3/domains/${r.body.project.id}`, { token: admin });
    assert.equal(d.status, 200);
    assert.equal(d.body.domain.name, "dom-as-project");
    const listed = await c.req("GET", "/v3/projects?is_domain=true", { token: admin });
    assert.ok(listed.body.projects.some((p: { id: string }) => p.id === r.body.project.id));
    assert.ok(listed.body.projects.every((p: { is_domain: boolean }) => p.is_domain));
    const plain = await c.req("GET", "/v3/projects", { token: admin });
    assert.ok(plain.body.projects.every((p: { is_domain: boolean }) => !p.is_domain));
    // A domain is also a project: GET /v3/projects/{domain_id} works.
    const asProject = await c.req("GET", `/v3/projects/${r.body.project.id}`, { token: admin });
    assert.equal(asProject.status, 200);
    assert.equal(asProject.body.project.is_domain, true);
    // And it can hold projects.
    const inside = await c.req("POST", "/v3/projects", {
      token: admin,
      body: { project: { name: "inside", domain_id: r.body.project.id } },
    });
    assert.equal(inside.status, 201);
    assert.equal(inside.body.project.parent_id, r.body.project.id);
  });

  test("creating, updating and deleting domains needs admin", async () => {
    const demo = await c.demoToken();
    assert.equal(
      (await c.req("POST", "/v3/domains", { token: demo, body: { domain: { name: "dom-by-demo" } } })).status,
      403,
    );
    assert.equal(
      (await c.req("PATCH", "/v3/domains/default", { token: demo, body: { domain: { description: "x" } } }))
        .status,
      403,
    );
    assert.equal((await c.req("DELETE", "/v3/domains/default", { token: demo })).status, 403);
    assert.equal((await c.req("GET", "/v3/domains", { token: demo })).status, 403);
  });
});

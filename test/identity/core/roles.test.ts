// /v3/roles: global and domain-specific roles, immutable roles, implied roles and /v3/role_inferences.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootCloud, isKeystoneError, type TestCloud } from "../../helpers/cloud.js";

let c: TestCloud;
let admin: string;
let domainId: string;

before(async () => {
  c = await bootCloud();
  admin = await c.adminToken();
  domainId = (await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "roles-dom" } } }))
    .body.domain.id;
});
after(() => c.close());

const create = (body: Record<string, unknown>) =>
  c.req("POST", "/v3/roles", { token: admin, body: { role: body } });
const roleNames = (r: { body: { roles: Array<{ name: string }> } }) => r.body.roles.map((x) => x.name).sort();

describe("roles", () => {
  test("create returns 201 with Keystone's role shape", async () => {
    const r = await create({ name: "r-shape", description: "d" });
    assert.equal(r.status, 201);
    const role = r.body.role;
    assert.match(role.id, /^[0-9a-f]{32}$/);
    assert.equal(role.name, "r-shape");
    assert.equal(role.domain_id, null);
    assert.equal(role.description, "d");
    assert.deepEqual(role.options, {});
    assert.equal(role.links.self, `http://localhost:80/identity/v3/roles/${role.id}`);
    const g = await c.req("GET", `/v3/roles/${role.id}`, { token: admin });
    assert.deepEqual(g.body.role, role);
  });

  test("duplicate global names are 409; unknown roles 404", async () => {
    assert.equal((await create({ name: "r-dup" })).status, 201);
    const r = await create({ name: "r-dup" });
    assert.equal(r.status, 409);
    assert.ok(isKeystoneError(r.body, 409));
    assert.equal((await c.req("GET", "/v3/roles/nope", { token: admin })).status, 404);
    assert.equal(
      (await c.req("PATCH", "/v3/roles/nope", { token: admin, body: { role: { name: "x" } } })).status,
      404,
    );
    assert.equal((await c.req("DELETE", "/v3/roles/nope", { token: admin })).status, 404);
  });

  test("list and name filter show global roles only", async () => {
    const all = await c.req("GET", "/v3/roles", { token: admin });
    assert.equal(all.status, 200);
    for (const n of ["admin", "member", "reader", "service"]) assert.ok(roleNames(all).includes(n), n);
    assert.ok(all.body.roles.every((r: { domain_id: string | null }) => r.domain_id === null));
    assert.deepEqual(roleNames(await c.req("GET", "/v3/roles?name=reader", { token: admin })), ["reader"]);
  });

  test("update and delete", async () => {
    const role = (await create({ name: "r-upd" })).body.role;
    const r = await c.req("PATCH", `/v3/roles/${role.id}`, {
      token: admin,
      body: { role: { name: "r-upd2", description: "new" } },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.role.name, "r-upd2");
    assert.equal(
      (await c.req("PATCH", `/v3/roles/${role.id}`, { token: admin, body: { role: { name: "admin" } } }))
        .status,
      409,
    );
    assert.equal((await c.req("DELETE", `/v3/roles/${role.id}`, { token: admin })).status, 204);
    assert.equal((await c.req("GET", `/v3/roles/${role.id}`, { token: admin })).status, 404);
  });

  test("immutable roles cannot be changed or deleted until the option is unset", async () => {
    const role = (await create({ name: "r-immutable", options: { immutable: true } })).body.role;
    assert.equal(role.options.immutable, true);
    assert.equal(
      (await c.req("PATCH", `/v3/roles/${role.id}`, { token: admin, body: { role: { description: "x" } } }))
        .status,
      403,
    );
    assert.equal((await c.req("DELETE", `/v3/roles/${role.id}`, { token: admin })).status, 403);
    const unset = await c.req("PATCH", `/v3/roles/${role.id}`, {
      token: admin,
      body: { role: { options: { immutable: false } } },
    });
    assert.equal(unset.status, 200);
    assert.equal((await c.req("DELETE", `/v3/roles/${role.id}`, { token: admin })).status, 204);
  });

  test("deleting a role removes its assignments", async () => {
    const role = (await create({ name: "r-del-assigned" })).body.role;
    const demo = await c.userId("demo");
    const demoProject = await c.projectId("demo");
    await c.req("PUT", `/v3/projects/${demoProject}/users/${demo}/roles/${role.id}`, { token: admin });
    await c.req("DELETE", `/v3/roles/${role.id}`, { token: admin });
    const ra = await c.req("GET", `/v3/role_assignments?role.id=${role.id}`, { token: admin });
    assert.deepEqual(ra.body.role_assignments, []);
  });

  test("members cannot manage roles", async () => {
    const demo = await c.demoToken();
    assert.equal((await c.req("GET", "/v3/roles", { token: demo })).status, 403);
    assert.equal(
      (await c.req("POST", "/v3/roles", { token: demo, body: { role: { name: "by-demo" } } })).status,
      403,
    );
    const member = await c.roleId("member");
    assert.equal((await c.req("GET", `/v3/roles/${member}`, { token: demo })).status, 403);
    assert.equal((await c.req("DELETE", `/v3/roles/${member}`, { token: demo })).status, 403);
  });
});

describe("domain-specific roles", () => {
  test("are listed with ?domain_id, not in the global list, and may reuse a global name", async () => {
    const r = await create({ name: "admin", domain_id: domainId });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.role.domain_id, domainId);
    assert.equal((await create({ name: "admin", domain_id: domainId })).status, 409);
    const scoped = await c.req("GET", `/v3/roles?domain_id=${domainId}`, { token: admin });
    assert.deepEqual(
      scoped.body.roles.map((x: { id: string }) => x.id),
      [r.body.role.id],
    );
    const global = await c.req("GET", "/v3/roles?name=admin", { token: admin });
    assert.equal(global.body.roles.length, 1);
    assert.equal(global.body.roles[0].domain_id, null);
    assert.equal((await create({ name: "r-baddom", domain_id: "no-such-domain" })).status, 400);
  });

  test("may only be granted on projects of their domain (403 otherwise)", async () => {
    const role = (await create({ name: "dsr-grant", domain_id: domainId })).body.role;
    const inDom = await c.req("POST", "/v3/projects", {
      token: admin,
      body: { project: { name: "dsr-p", domain_id: domainId } },
    });
    const u = await c.createUser("dsr-user", "dsr-user-secret");
    assert.equal(
      (
        await c.req("PUT", `/v3/projects/${inDom.body.project.id}/users/${u.id}/roles/${role.id}`, {
          token: admin,
        })
      ).status,
      204,
    );
    const demoProject = await c.projectId("demo");
    const r = await c.req("PUT", `/v3/projects/${demoProject}/users/${u.id}/roles/${role.id}`, {
      token: admin,
    });
    assert.equal(r.status, 403);
    assert.ok(isKeystoneError(r.body, 403));
  });

  test("are not put in tokens: only the global roles they imply are", async () => {
    // A domain-specific role called "admin" must never make its holder a cloud admin.
    const fake = (await create({ name: "dsr-admin", domain_id: domainId })).body.role;
    const sneaky = (await c.req("GET", `/v3/roles?domain_id=${domainId}&name=admin`, { token: admin })).body
      .roles[0];
    const reader = await c.roleId("reader");
    assert.equal(
      (await c.req("PUT", `/v3/roles/${fake.id}/implies/${reader}`, { token: admin })).status,
      201,
    );
    const p = await c.req("POST", "/v3/projects", {
      token: admin,
      body: { project: { name: "dsr-tok", domain_id: domainId } },
    });
    const u = await c.req("POST", "/v3/users", {
      token: admin,
      body: { user: { name: "dsr-tok-user", domain_id: domainId, password: "dsr-tok-secret" } },
    });
    const pid = p.body.project.id;
    const uid = u.body.user.id;
    await c.req("PUT", `/v3/projects/${pid}/users/${uid}/roles/${fake.id}`, { token: admin });
    await c.req("PUT", `/v3/projects/${pid}/users/${uid}/roles/${sneaky.id}`, { token: admin });
    const r = await c.auth({ id: uid }, "dsr-tok-secret", { project: { id: pid } });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(
      r.body.token.roles.map((x: { name: string }) => x.name),
      ["reader"],
    );
    const tok = r.headers["x-subject-token"] as string;
    assert.equal((await c.req("GET", "/v3/users", { token: tok })).status, 403);
    const eff = await c.req("GET", `/v3/role_assignments?effective&user.id=${uid}`, { token: admin });
    assert.deepEqual(
      eff.body.role_assignments.map((x: { role: { id: string } }) => x.role.id),
      [reader],
    );
  });
});

describe("implied roles", () => {
  test("create, list, check, get and delete an inference rule", async () => {
    const prior = (await create({ name: "ir-prior" })).body.role;
    const implied = (await create({ name: "ir-implied" })).body.role;
    const put = await c.req("PUT", `/v3/roles/${prior.id}/implies/${implied.id}`, { token: admin });
    assert.equal(put.status, 201);
    assert.equal(put.body.role_inference.prior_role.id, prior.id);
    assert.equal(put.body.role_inference.prior_role.name, "ir-prior");
    assert.equal(put.body.role_inference.implies.id, implied.id);
    assert.equal(typeof put.body.role_inference.implies.links.self, "string");
    const list = await c.req("GET", `/v3/roles/${prior.id}/implies`, { token: admin });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.role_inference.implies.map((x: { id: string }) => x.id),
      [implied.id],
    );
    assert.equal(
      (await c.req("HEAD", `/v3/roles/${prior.id}/implies/${implied.id}`, { token: admin })).status,
      204,
    );
    const get = await c.req("GET", `/v3/roles/${prior.id}/implies/${implied.id}`, { token: admin });
    assert.equal(get.status, 200);
    assert.equal(get.body.role_inference.implies.id, implied.id);
    const all = await c.req("GET", "/v3/role_inferences", { token: admin });
    assert.ok(
      all.body.role_inferences.some((x: { prior_role: { id: string } }) => x.prior_role.id === prior.id),
    );
    assert.equal(
      (await c.req("DELETE", `/v3/roles/${prior.id}/implies/${implied.id}`, { token: admin })).status,
      204,
    );
    assert.equal(
      (await c.req("HEAD", `/v3/roles/${prior.id}/implies/${implied.id}`, { token: admin })).status,
      404,
    );
    assert.equal(
      (await c.req("GET", `/v3/roles/${prior.id}/implies/${implied.id}`, { token: admin })).status,
      404,
    );
    assert.equal(
      (await c.req("DELETE", `/v3/roles/${prior.id}/implies/${implied.id}`, { token: admin })).status,
      404,
    );
    assert.equal((await c.req("PUT", `/v3/roles/${prior.id}/implies/nope`, { token: admin })).status, 404);
    assert.equal((await c.req("PUT", `/v3/roles/nope/implies/${implied.id}`, { token: admin })).status, 404);
  });

  test("a cycle is 409, directly or through a chain", async () => {
    const a = (await create({ name: "cy-a" })).body.role;
    const b = (await create({ name: "cy-b" })).body.role;
    const d = (await create({ name: "cy-c" })).body.role;
    assert.equal((await c.req("PUT", `/v3/roles/${a.id}/implies/${b.id}`, { token: admin })).status, 201);
    assert.equal((await c.req("PUT", `/v3/roles/${b.id}/implies/${d.id}`, { token: admin })).status, 201);
    for (const [x, y] of [
      [b, a],
      [d, a],
      [a, a],
    ]) {
      const r = await c.req("PUT", `/v3/roles/${x.id}/implies/${y.id}`, { token: admin });
      assert.equal(r.status, 409, `${x.name} → ${y.name}`);
      assert.ok(isKeystoneError(r.body, 409));
    }
  });

  test("a global role cannot imply a domain-specific one, and no role may imply admin (403)", async () => {
    const g = (await create({ name: "ir-global" })).body.role;
    const ds = (await create({ name: "ir-ds", domain_id: domainId })).body.role;
    assert.equal((await c.req("PUT", `/v3/roles/${g.id}/implies/${ds.id}`, { token: admin })).status, 403);
    const adminRole = await c.roleId("admin");
    assert.equal(
      (await c.req("PUT", `/v3/roles/${g.id}/implies/${adminRole}`, { token: admin })).status,
      403,
    );
  });

  test("implied roles show up in tokens", async () => {
    const prior = (await create({ name: "ir-tok-prior" })).body.role;
    const implied = (await create({ name: "ir-tok-implied" })).body.role;
    await c.req("PUT", `/v3/roles/${prior.id}/implies/${implied.id}`, { token: admin });
    const u = await c.createUser("ir-tok-user", "ir-tok-secret");
    const demoProject = await c.projectId("demo");
    await c.req("PUT", `/v3/projects/${demoProject}/users/${u.id}/roles/${prior.id}`, { token: admin });
    const r = await c.auth("ir-tok-user", "ir-tok-secret", "demo");
    assert.deepEqual(r.body.token.roles.map((x: { name: string }) => x.name).sort(), [
      "ir-tok-implied",
      "ir-tok-prior",
    ]);
  });
});

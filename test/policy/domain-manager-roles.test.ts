// Issue 8: a domain manager lists roles and shows the ones it may grant (Keystone 2024.2's defaults:
// identity:list_roles is admin, system reader or a manager on a domain scope; identity:get_role lets a manager see
// manager, member and reader). A project manager or a domain reader does not list roles.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bootCloud, type TestCloud } from "../helpers/cloud.js";

const PW = "Passw0rd-dm";

describe("domain manager and the role API", () => {
  let t: TestCloud;
  let dm = "";
  let dr = "";
  let pm = "";
  before(async () => {
    t = await bootCloud();
    const admin = await t.adminToken();
    const grant = async (scope: string, user: string, role: string) =>
      assert.equal(
        (
          await t.req(
            "PUT",
            `/v3/${scope}/users/${(await t.createUser(user, PW)).id}/roles/${await t.roleId(role)}`,
            {
              token: admin,
            },
          )
        ).status,
        204,
      );
    const demo = await t.req("GET", "/v3/projects?name=demo", { token: admin });
    const demoId = (demo.body as any).projects[0].id as string;
    await grant("domains/default", "dm-manager", "manager");
    await grant("domains/default", "dm-reader", "reader");
    await grant(`projects/${demoId}`, "dm-pmanager", "manager");
    dm = await t.token("dm-manager", PW, { domain: { id: "default" } });
    dr = await t.token("dm-reader", PW, { domain: { id: "default" } });
    pm = await t.token("dm-pmanager", PW, { project: { id: demoId } });
  });
  after(() => t?.close());

  it("a domain manager lists roles and finds one by name", async () => {
    const all = await t.req("GET", "/v3/roles", { token: dm });
    assert.equal(all.status, 200, JSON.stringify(all.body));
    const names = (all.body as any).roles.map((r: { name: string }) => r.name);
    for (const n of ["admin", "manager", "member", "reader"]) assert.ok(names.includes(n), names.join(","));
    const one = await t.req("GET", "/v3/roles?name=member", { token: dm });
    assert.equal(one.status, 200);
    assert.equal((one.body as any).roles.length, 1);
  });

  it("a domain manager shows manager, member and reader, not admin nor a missing role", async () => {
    for (const n of ["manager", "member", "reader"]) {
      const r = await t.req("GET", `/v3/roles/${await t.roleId(n)}`, { token: dm });
      assert.equal(r.status, 200, `${n}: ${JSON.stringify(r.body)}`);
      assert.equal((r.body as any).role.name, n);
    }
    assert.equal((await t.req("GET", `/v3/roles/${await t.roleId("admin")}`, { token: dm })).status, 403);
    // Existence is not leaked: a missing role is refused like one the caller may not see.
    assert.equal((await t.req("GET", "/v3/roles/no-such-role", { token: dm })).status, 403);
    assert.equal((await t.req("GET", "/v3/roles/no-such-role", { token: await t.adminToken() })).status, 404);
  });

  it("a project manager and a domain reader do not list roles", async () => {
    assert.equal((await t.req("GET", "/v3/roles", { token: pm })).status, 403);
    assert.equal((await t.req("GET", "/v3/roles", { token: dr })).status, 403);
    assert.equal((await t.req("GET", `/v3/roles/${await t.roleId("member")}`, { token: dr })).status, 403);
  });
});

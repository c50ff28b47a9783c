// OS-TRUST: trusts, trust-scoped tokens, revocation by trust deletion.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { boot, isKeystoneError, type Env } from "../api-extra/helpers.js";

let env: Env;
let project: string;
let trustorId: string;
let trustor: string;
let delegated: string;
let kept: string;
let n = 0;
const T = "/v3/OS-TRUST/trusts";

before(async () => {
  env = await boot();
  const { req, admin } = env;
  project = (await req("POST", "/v3/projects", admin, { project: { name: "trusted", domain_id: "default" } }))
    .body.project.id;
  trustorId = (
    await req("POST", "/v3/users", admin, {
      user: { name: "trustor", password: "trustor-pw", domain_id: "default", default_project_id: project },
    })
  ).body.user.id;
  delegated = (await req("POST", "/v3/roles", admin, { role: { name: "Delegated" } })).body.role.id;
  kept = (await req("POST", "/v3/roles", admin, { role: { name: "Kept" } })).body.role.id;
  for (const r of [delegated, kept])
    assert.equal(
      (await req("PUT", `/v3/projects/${project}/users/${trustorId}/roles/${r}`, admin)).status,
      204,
    );
  trustor = await env.token("trustor", "trustor-pw", "trusted");
});
after(() => env.close());

const trustBody = (over: Record<string, unknown> = {}) => ({
  trust: {
    trustor_user_id: trustorId,
    trustee_user_id: env.demoId,
    project_id: project,
    impersonation: true,
    roles: [{ name: "Delegated" }],
    ...over,
  },
});

async function makeTrust(over: Record<string, unknown> = {}): Promise<any> {
  const r = await env.req("POST", T, trustor, trustBody(over));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.trust;
}

/** A trust-scoped token for the trustee (demo). */
const trustAuth = (trustId: string) =>
  env.auth({
    identity: {
      methods: ["password"],
      password: { user: { id: env.demoId, password: env.cloud.demoPassword } },
    },
    scope: { "OS-TRUST:trust": { id: trustId } },
  });

describe("trusts API", () => {
  test("create, show, roles, list by trustor/trustee/all, delete", async () => {
    const { req, admin, demo, demoId } = env;
    const t = await makeTrust();
    assert.match(t.id, /^[0-9a-f]{32}$/);
    assert.equal(t.trustor_user_id, trustorId);
    assert.equal(t.trustee_user_id, demoId);
    assert.equal(t.project_id, project);
    assert.equal(t.impersonation, true);
    assert.equal(t.expires_at, null);
    assert.equal(t.remaining_uses, null);
    assert.equal(t.redelegation_count, 0);
    assert.deepEqual(
      t.roles.map((r: any) => r.id),
      [delegated],
    );
    assert.ok(t.roles[0].links.self.endsWith(`/v3/roles/${delegated}`));
    assert.ok(t.links.self.endsWith(`/identity${T}/${t.id}`));
    assert.ok(t.roles_links.self.endsWith(`/identity${T}/${t.id}/roles`));

    for (const who of [trustor, demo, admin]) {
      const shown = await req("GET", `${T}/${t.id}`, who);
      assert.equal(shown.status, 200);
      assert.deepEqual(shown.body.trust, t);
    }
    const roles = await req("GET", `${T}/${t.id}/roles`, demo);
    assert.deepEqual(
      roles.body.roles.map((r: any) => r.name),
      ["Delegated"],
    );
    assert.equal((await req("GET", `${T}/${t.id}/roles/${delegated}`, trustor)).body.role.name, "Delegated");
    assert.equal((await req("HEAD", `${T}/${t.id}/roles/${delegated}`, trustor)).status, 200);
    assert.equal((await req("GET", `${T}/${t.id}/roles/${kept}`, trustor)).status, 404);
    assert.equal((await req("HEAD", `${T}/${t.id}/roles/${kept}`, trustor)).status, 404);

    const byTrustor = await req("GET", `${T}?trustor_user_id=${trustorId}`, trustor);
    assert.equal(byTrustor.status, 200);
    assert.deepEqual(
      byTrustor.body.trusts.map((x: any) => x.id),
      [t.id],
    );
    assert.equal(byTrustor.body.trusts[0].roles, undefined);
    const byTrustee = await req("GET", `${T}/?trustee_user_id=${demoId}`, demo);
    assert.ok(byTrustee.body.trusts.some((x: any) => x.id === t.id));
    assert.equal((await req("GET", `${T}?trustor_user_id=${trustorId}`, demo)).status, 403);
    assert.equal((await req("GET", T, demo)).status, 403);
    assert.ok((await req("GET", T, admin)).body.trusts.some((x: any) => x.id === t.id));

    assert.equal((await req("DELETE", `${T}/${t.id}`, demo)).status, 403);
    assert.equal((await req("DELETE", `${T}/${t.id}`, trustor)).status, 204);
    const gone = await req("GET", `${T}/${t.id}`, trustor);
    assert.equal(gone.status, 404);
    assert.ok(isKeystoneError(gone.body, 404));
  });

  test("expires_at is echoed with microseconds; bad or past times are 400", async () => {
    const { req } = env;
    const when = new Date(Date.now() + 3600_000);
    when.setUTCMilliseconds(0);
    const iso = when.toISOString().replace(".000Z", "Z");
    const t = await makeTrust({ expires_at: iso, impersonation: false });
    assert.equal(t.expires_at, iso.replace("Z", ".000000Z"));
    assert.equal((await req("GET", `${T}/${t.id}`, trustor)).body.trust.expires_at, t.expires_at);
    assert.equal((await req("POST", T, trustor, trustBody({ expires_at: "bad.123Z" }))).status, 400);
    assert.equal(
      (await req("POST", T, trustor, trustBody({ expires_at: "2001-01-01T00:00:00Z" }))).status,
      400,
    );
    await req("DELETE", `${T}/${t.id}`, trustor);
  });

  test("creation errors: trustor mismatch 403, role not held 404, missing roles 403, unknown trustee 404", async () => {
    const { req, admin, demo } = env;
    assert.equal((await req("POST", T, admin, trustBody())).status, 403);
    assert.equal((await req("POST", T, demo, trustBody())).status, 403);
    const notHeld = (await req("POST", "/v3/roles", admin, { role: { name: `NotHeld${++n}` } })).body.role.id;
    assert.equal((await req("POST", T, trustor, trustBody({ roles: [{ id: notHeld }] }))).status, 404);
    assert.equal((await req("POST", T, trustor, trustBody({ roles: [{ name: "NoSuchRole" }] }))).status, 404);
    assert.equal((await req("POST", T, trustor, trustBody({ roles: [] }))).status, 403);
    assert.equal((await req("POST", T, trustor, trustBody({ trustee_user_id: "nobody" }))).status, 404);
    assert.equal((await req("POST", T, trustor, trustBody({ project_id: "nowhere" }))).status, 404);
    assert.equal((await req("POST", T, trustor, { trust: { trustor_user_id: trustorId } })).status, 400);
    assert.equal((await req("POST", T, trustor, trustBody({ remaining_uses: 0 }))).status, 400);
  });
});

describe("trust lifecycle", () => {
  test("deleting the trustee (or trustor) deletes their trusts", async () => {
    const { req, admin } = env;
    const temp = (
      await req("POST", "/v3/users", admin, { user: { name: `temp-trustee-${++n}`, domain_id: "default" } })
    ).body.user.id;
    const t = await makeTrust({ trustee_user_id: temp });
    assert.equal((await req("DELETE", `/v3/users/${temp}`, admin)).status, 204);
    assert.equal((await req("GET", `${T}/${t.id}`, trustor)).status, 404);
    const listed = await req("GET", `${T}?trustor_user_id=${trustorId}`, trustor);
    assert.ok(!listed.body.trusts.some((x: any) => x.id === t.id));
  });
});

describe("trust-scoped tokens", () => {
  test("the trustee gets the trust's roles on its project; impersonation shows the trustor", async () => {
    const { req, admin } = env;
    const t = await makeTrust();
    const r = await trustAuth(t.id);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const tok = r.body.token;
    assert.deepEqual(tok["OS-TRUST:trust"], {
      id: t.id,
      trustor_user: { id: trustorId },
      trustee_user: { id: env.demoId },
      impersonation: true,
    });
    assert.equal(tok.project.id, project);
    assert.deepEqual(
      tok.roles.map((x: any) => x.name),
      ["Delegated"],
    );
    assert.equal(tok.user.id, trustorId);
    assert.ok(Array.isArray(tok.catalog));
    const id = r.headers["x-subject-token"] as string;
    const validated = await env.cloud.app.inject({
      method: "GET",
      url: "/identity/v3/auth/tokens",
      headers: { "x-auth-token": admin, "x-subject-token": id },
    });
    assert.equal(validated.statusCode, 200);
    assert.equal(JSON.parse(validated.body).token["OS-TRUST:trust"].id, t.id);
    // As the caller, the token acts as the trustor (impersonation).
    const me = await req("GET", `/v3/users/${trustorId}`, id);
    assert.equal(me.status, 200);

    // A trust-scoped token cannot be rescoped.
    const re = await env.auth({ identity: { methods: ["token"], token: { id } } });
    assert.equal(re.status, 403);

    // Deleting the trust revokes its tokens.
    assert.equal((await req("DELETE", `${T}/${t.id}`, trustor)).status, 204);
    const after = await env.cloud.app.inject({
      method: "GET",
      url: "/identity/v3/auth/tokens",
      headers: { "x-auth-token": admin, "x-subject-token": id },
    });
    assert.equal(after.statusCode, 404);
    assert.equal((await trustAuth(t.id)).status, 401);
  });

  test("without impersonation the token is the trustee's; only the trustee may use a trust", async () => {
    const { req } = env;
    const t = await makeTrust({ impersonation: false });
    const r = await trustAuth(t.id);
    assert.equal(r.status, 201);
    assert.equal(r.body.token.user.id, env.demoId);
    assert.equal(r.body.token["OS-TRUST:trust"].impersonation, false);
    const asTrustor = await env.auth({
      identity: { methods: ["password"], password: { user: { id: trustorId, password: "trustor-pw" } } },
      scope: { "OS-TRUST:trust": { id: t.id } },
    });
    assert.equal(asTrustor.status, 403);
    assert.equal((await trustAuth("no-such-trust")).status, 401);
    const both = await env.auth({
      identity: {
        methods: ["password"],
        password: { user: { id: env.demoId, password: env.cloud.demoPassword } },
      },
      scope: { "OS-TRUST:trust": { id: t.id }, project: { id: project } },
    });
    assert.equal(both.status, 400);
    await req("DELETE", `${T}/${t.id}`, trustor);
  });

  test("remaining_uses runs out; losing the delegated role invalidates tokens", async () => {
    const { req, admin } = env;
    const t = await makeTrust({ remaining_uses: 2, impersonation: false });
    assert.equal((await trustAuth(t.id)).status, 201);
    const second = await trustAuth(t.id);
    assert.equal(second.status, 201);
    assert.equal((await trustAuth(t.id)).status, 401);
    assert.equal((await req("GET", `${T}/${t.id}`, trustor)).status, 404);

    const u = await makeTrust({ impersonation: false });
    const tok = (await trustAuth(u.id)).headers["x-subject-token"] as string;
    assert.equal((await req("GET", `/v3/auth/tokens`, tok)).status, 404);
    assert.equal(
      (await req("DELETE", `/v3/projects/${project}/users/${trustorId}/roles/${delegated}`, admin)).status,
      204,
    );
    assert.equal((await req("GET", "/v3/users/" + env.demoId, tok)).status, 401);
    assert.equal((await trustAuth(u.id)).status, 403);
    assert.equal(
      (await req("PUT", `/v3/projects/${project}/users/${trustorId}/roles/${delegated}`, admin)).status,
      204,
    );
    trustor = await env.token("trustor", "trustor-pw", "trusted");
    assert.equal((await trustAuth(u.id)).status, 201);
    await req("DELETE", `${T}/${u.id}`, trustor);
  });

  test("redelegation: a redelegatable trust's trustee can pass it on, within its limits", async () => {
    const { req, admin } = env;
    const t = await makeTrust({ allow_redelegation: true, redelegation_count: 2 });
    assert.equal(t.redelegation_count, 2);
    const tok = (await trustAuth(t.id)).headers["x-subject-token"] as string;
    // With impersonation the trust token acts as the trustor, who stays the trustor of the redelegated trust.
    const adminUser = env.adminId;
    const child = await req(
      "POST",
      T,
      tok,
      trustBody({ trustee_user_id: adminUser, allow_redelegation: true }),
    );
    assert.equal(child.status, 201, JSON.stringify(child.body));
    assert.equal(child.body.trust.redelegated_trust_id, t.id);
    assert.equal(child.body.trust.redelegation_count, 1);
    // Redelegated trusts may not limit uses, nor change the depth.
    const limited = await req("POST", T, tok, trustBody({ trustee_user_id: adminUser, remaining_uses: 1 }));
    assert.equal(limited.status, 403);
    const deeper = await req(
      "POST",
      T,
      tok,
      trustBody({ trustee_user_id: adminUser, allow_redelegation: true, redelegation_count: 2 }),
    );
    assert.equal(deeper.status, 403);
    // A trust that does not allow redelegation cannot be passed on.
    const flat = await makeTrust({ impersonation: true });
    const flatTok = (await trustAuth(flat.id)).headers["x-subject-token"] as string;
    assert.equal((await req("POST", T, flatTok, trustBody({ trustee_user_id: adminUser }))).status, 403);
    await req("DELETE", `${T}/${flat.id}`, trustor);
    // Deleting the parent deletes the redelegated trust too.
    assert.equal((await req("DELETE", `${T}/${t.id}`, trustor)).status, 204);
    assert.equal((await req("GET", `${T}/${child.body.trust.id}`, admin)).status, 404);
  });
});

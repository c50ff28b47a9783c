// Domain-specific configuration (/v3/domains/{domain_id}/config and /v3/domains/config/.../default).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { boot, isKeystoneError, type Env } from "../api-extra/helpers.js";

let env: Env;
let n = 0;
before(async () => {
  env = await boot();
});
after(() => env.close());

const custom = {
  identity: { driver: "ldap" },
  ldap: { url: "ldap://myldap.com:389/", user_tree_dn: "ou=Users,dc=my_new_root,dc=org" },
};

async function newDomain(): Promise<string> {
  const r = await env.req("POST", "/v3/domains", env.admin, { domain: { name: `cfg-${++n}-${Date.now()}` } });
  assert.equal(r.status, 201);
  return r.body.domain.id;
}

describe("domain configuration", () => {
  test("create (201, then 200 on replace), show whole/group/option, update, delete", async () => {
    const { req, admin } = env;
    const d = await newDomain();
    const base = `/v3/domains/${d}/config`;
    assert.equal((await req("GET", base, admin)).status, 404);
    const created = await req("PUT", base, admin, { config: custom });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.config, custom);
    assert.deepEqual((await req("GET", base, admin)).body.config, custom);
    assert.deepEqual((await req("GET", `${base}/ldap`, admin)).body.config, { ldap: custom.ldap });
    assert.deepEqual((await req("GET", `${base}/ldap/url`, admin)).body.config, { url: custom.ldap.url });

    // Updating a group may add options to it; an option update names only that option.
    const grp = await req("PATCH", `${base}/identity`, admin, {
      config: { identity: { driver: "sql", list_limit: 42 } },
    });
    assert.equal(grp.status, 200);
    assert.deepEqual(grp.body.config.identity, { driver: "sql", list_limit: 42 });
    assert.deepEqual(grp.body.config.ldap, custom.ldap);
    const opt = await req("PATCH", `${base}/identity/driver`, admin, { config: { driver: "ldap" } });
    assert.equal(opt.status, 200);
    assert.equal(opt.body.config.identity.driver, "ldap");
    const whole = await req("PATCH", base, admin, { config: { ldap: { url: "ldap://other" } } });
    assert.equal(whole.body.config.ldap.url, "ldap://other");
    assert.equal(whole.body.config.ldap.user_tree_dn, custom.ldap.user_tree_dn);

    assert.equal((await req("DELETE", `${base}/identity/driver`, admin)).status, 204);
    assert.equal((await req("GET", `${base}/identity/driver`, admin)).status, 404);
    assert.equal((await req("DELETE", `${base}/identity/driver`, admin)).status, 404);
    assert.equal((await req("DELETE", `${base}/identity`, admin)).status, 204);
    assert.equal((await req("GET", `${base}/identity`, admin)).status, 404);
    assert.equal(
      (await req("PATCH", `${base}/identity`, admin, { config: { identity: { driver: "x" } } })).status,
      404,
    );

    const replaced = await req("PUT", base, admin, { config: { identity: { driver: "sql" } } });
    assert.equal(replaced.status, 200);
    assert.deepEqual(replaced.body.config, { identity: { driver: "sql" } });
    assert.equal((await req("DELETE", base, admin)).status, 204);
    const gone = await req("GET", base, admin);
    assert.equal(gone.status, 404);
    assert.ok(isKeystoneError(gone.body, 404));
  });

  test("sensitive options are stored but never shown; unsupported groups/options are 403", async () => {
    const { req, admin } = env;
    const d = await newDomain();
    const base = `/v3/domains/${d}/config`;
    const r = await req("PUT", base, admin, { config: { ldap: { url: "ldap://x", password: "s3cret" } } });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.config, { ldap: { url: "ldap://x" } });
    assert.equal((await req("GET", `${base}/ldap/password`, admin)).status, 404);
    assert.equal((await req("DELETE", `${base}/ldap/password`, admin)).status, 204);

    for (const bad of [{ nope: { a: 1 } }, { ldap: { nope: 1 } }, {}, { ldap: {} }, { ldap: "x" }]) {
      const res = await req("PUT", base, admin, { config: bad });
      assert.equal(res.status, 403, JSON.stringify(bad));
      assert.match(res.body.error.message, /^Invalid domain specific configuration/);
    }
    assert.equal((await req("GET", `${base}/nope`, admin)).status, 403);
    assert.equal(
      (await req("PATCH", `${base}/ldap`, admin, { config: { identity: { driver: "x" } } })).status,
      403,
    );
    assert.equal((await req("PUT", "/v3/domains/missing/config", admin, { config: custom })).status, 404);
    assert.equal((await req("GET", "/v3/domains/missing/config", admin)).status, 404);
  });

  test("defaults: every whitelisted option, per group and per option; sensitive ones are not readable", async () => {
    const { req, admin } = env;
    const all = await req("GET", "/v3/domains/config/default", admin);
    assert.equal(all.status, 200);
    assert.deepEqual(Object.keys(all.body.config).sort(), ["identity", "ldap"]);
    assert.deepEqual(all.body.config.identity, { driver: "sql", list_limit: null });
    const ldap = (await req("GET", "/v3/domains/config/ldap/default", admin)).body.config;
    assert.equal(ldap.ldap.url, "ldap://localhost");
    assert.equal(ldap.ldap.password, undefined);
    for (const o of Object.keys(ldap.ldap)) {
      const one = await req("GET", `/v3/domains/config/ldap/${o}/default`, admin);
      assert.equal(one.status, 200, o);
      assert.ok(o in one.body.config);
    }
    assert.deepEqual((await req("GET", "/v3/domains/config/identity/driver/default", admin)).body.config, {
      driver: "sql",
    });
    assert.equal((await req("GET", "/v3/domains/config/ldap/password/default", admin)).status, 403);
    assert.equal((await req("GET", "/v3/domains/config/nope/default", admin)).status, 403);
  });

  test("policy: admins only, except the readable security_compliance rules", async () => {
    const { req, admin, demo } = env;
    const d = await newDomain();
    assert.equal((await req("PUT", `/v3/domains/${d}/config`, demo, { config: custom })).status, 403);
    assert.equal((await req("GET", `/v3/domains/${d}/config`, demo)).status, 403);
    assert.equal((await req("GET", "/v3/domains/config/default", demo)).status, 403);
    const sc = await req("GET", "/v3/domains/default/config/security_compliance", demo);
    assert.equal(sc.status, 200);
    assert.deepEqual(Object.keys(sc.body.config.security_compliance).sort(), [
      "password_regex",
      "password_regex_description",
    ]);
    const one = await req("GET", "/v3/domains/default/config/security_compliance/password_regex", demo);
    assert.equal(one.status, 200);
    assert.ok("password_regex" in one.body.config);
    assert.equal(
      (await req("GET", "/v3/domains/default/config/security_compliance/lockout_duration", demo)).status,
      403,
    );
    assert.equal((await req("GET", `/v3/domains/${d}/config/security_compliance`, admin)).status, 403);
  });

  test("Object.prototype names as groups, options or body keys are unsupported (403), never a 500", async () => {
    const { req, admin } = env;
    const d = await newDomain();
    assert.equal((await req("PUT", `/v3/domains/${d}/config`, admin, { config: custom })).status, 201);
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"]) {
      for (const path of [
        `/v3/domains/default/config/${name}/url`,
        `/v3/domains/${d}/config/${name}`,
        `/v3/domains/${d}/config/ldap/${name}`,
        `/v3/domains/config/${name}/default`,
        `/v3/domains/config/ldap/${name}/default`,
      ]) {
        const r = await req("GET", path, admin);
        assert.equal(r.status, 403, `GET ${path}: ${JSON.stringify(r.body)}`);
        assert.ok(isKeystoneError(r.body, 403), JSON.stringify(r.body));
        if (!path.endsWith("/default"))
          assert.equal((await req("DELETE", path, admin)).status, 403, `DELETE ${path}`);
      }
      const raw = `{"config": {"${name}": {"url": "ldap://x"}}}`;
      for (const [method, path] of [
        ["PATCH", `/v3/domains/${d}/config`],
        ["PUT", `/v3/domains/${d}/config`],
        ["PATCH", `/v3/domains/${d}/config/ldap/url`],
      ] as const) {
        const body = path.endsWith("/url") ? `{"config": {"${name}": "x"}}` : raw;
        // JSON.parse keeps "__proto__" as an own key, and inject serialises it back as sent.
        const r = await req(method, path, admin, JSON.parse(body));
        assert.equal(r.status, 403, `${method} ${path} ${body}: ${JSON.stringify(r.body)}`);
        assert.ok(isKeystoneError(r.body, 403), JSON.stringify(r.body));
      }
    }
    // Nothing was stored or polluted: the domain's config is what was created.
    assert.deepEqual((await req("GET", `/v3/domains/${d}/config`, admin)).body.config, custom);
    assert.equal(({} as Record<string, unknown>).url, undefined);
  });
});

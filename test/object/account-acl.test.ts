// Account ACLs (X-Account-Access-Control) in process: read-only, read-write and admin grants to other projects'
// users by "<project>:<user>", "*:<user>" and a bare project id; privileged headers refused to non-admins;
// malformed values 400; the ACL shown only to the account's owners and ACL admins; /info.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
const pw = "Passw0rd-oacl";
/** Tokens of: a read-only grantee, a read-write grantee (scoped to two projects), an admin grantee, nobody. */
const tok = { ro: "", rw: "", rwElsewhere: "", adm: "", none: "", reader: "" };
const ids = { pA: "", pB: "", pC: "", ro: "", rw: "", none: "", reader: "" };

before(async () => {
  o = await bootObjectCloud();
  const t = o.t;
  const admin = await t.adminToken();
  const grant = async (project: string, user: string, role = "member") => {
    const r = await t.req("PUT", `/v3/projects/${project}/users/${user}/roles/${await t.roleId(role)}`, {
      token: admin,
    });
    assert.equal(r.status, 204, r.text);
  };
  const pA = await t.createProject("oacl-a");
  const pB = await t.createProject("oacl-b");
  const pC = await t.createProject("oacl-c");
  const ro = await t.createUser("oacl-ro", pw);
  const rw = await t.createUser("oacl-rw", pw);
  const adm = await t.createUser("oacl-adm", pw);
  const none = await t.createUser("oacl-none", pw);
  const reader = await t.createUser("oacl-reader", pw);
  await grant(pA.id, ro.id);
  await grant(pA.id, rw.id);
  await grant(pB.id, rw.id);
  await grant(pC.id, adm.id);
  await grant(pA.id, none.id);
  await grant(await t.projectId("demo"), reader.id, "reader");
  Object.assign(ids, {
    pA: pA.id,
    pB: pB.id,
    pC: pC.id,
    ro: ro.id,
    rw: rw.id,
    none: none.id,
    reader: reader.id,
  });
  tok.ro = await t.token("oacl-ro", pw, "oacl-a");
  tok.rw = await t.token("oacl-rw", pw, "oacl-a");
  tok.rwElsewhere = await t.token("oacl-rw", pw, "oacl-b");
  tok.adm = await t.token("oacl-adm", pw, "oacl-c");
  tok.none = await t.token("oacl-none", pw, "oacl-a");
  tok.reader = await t.token("oacl-reader", pw, "demo");
});
after(() => o.close());

/** Set the demo account's ACL as its owner; the answer's status. */
const setAcl = async (value: string, token?: string | null): Promise<number> =>
  (await o.sw("POST", "", { token, headers: { "x-account-access-control": value } })).status;

/** The standard grants: pA's ro reads, rw (any project) writes, all of pC administers. */
const standardAcl = () =>
  JSON.stringify({
    "read-only": [`${ids.pA}:${ids.ro}`],
    "read-write": [`*:${ids.rw}`],
    admin: [ids.pC],
  });

describe("account ACLs", () => {
  test("/info reports account ACLs under keystoneauth", async () => {
    const r = await o.sw("GET", "/object-store/info", { token: null });
    assert.deepEqual(r.json.keystoneauth, { account_acls: true });
  });

  test("only the account's owner sets it; stored and shown in Swift's canonical form to owners and ACL admins only", async () => {
    // Nobody outside the account may set one, whatever its validity.
    assert.equal(await setAcl(standardAcl(), tok.none), 403);
    assert.equal(await setAcl("not json", tok.none), 403);
    assert.equal(await setAcl(standardAcl(), tok.reader), 403);
    assert.equal(await setAcl(standardAcl(), null), 401);
    assert.equal(
      await setAcl(
        ` { "read-only" : ["${ids.pA}:${ids.ro}"], "read-write":["*:${ids.rw}"], "admin": ["${ids.pC}"] } `,
      ),
      204,
    );
    const want = `{"admin":["${ids.pC}"],"read-only":["${ids.pA}:${ids.ro}"],"read-write":["*:${ids.rw}"]}`;
    assert.equal((await o.sw("HEAD", "")).headers["x-account-access-control"], want);
    assert.equal((await o.sw("GET", "")).headers["x-account-access-control"], want);
    // An ACL admin sees it; read-only, read-write grantees and the project's readers do not.
    assert.equal((await o.sw("HEAD", "", { token: tok.adm })).headers["x-account-access-control"], want);
    for (const token of [tok.ro, tok.rw, tok.reader]) {
      const r = await o.sw("HEAD", "", { token });
      assert.equal(r.status, 204);
      assert.equal(r.headers["x-account-access-control"], undefined);
    }
    // Sysmeta is never shown as is.
    assert.equal((await o.sw("HEAD", "")).headers["x-account-sysmeta-core-access-control"], undefined);
    // `{}` removes it, as Swift's functional tests reset it; so does an empty value.
    assert.equal(await setAcl("{}"), 204);
    assert.equal((await o.sw("HEAD", "")).headers["x-account-access-control"], undefined);
    assert.equal((await o.sw("GET", "", { token: tok.adm })).status, 403);
    assert.equal(await setAcl(standardAcl()), 204);
    assert.equal(await setAcl(""), 204);
    assert.equal((await o.sw("HEAD", "")).headers["x-account-access-control"], undefined);
    // Non-ASCII grantees come back escaped, as format_acl's ensure_ascii.
    assert.equal(await setAcl('{"read-only":["proj\\u00e9:*"]}'), 204);
    assert.equal(
      (await o.sw("HEAD", "")).headers["x-account-access-control"],
      '{"read-only":["proj\\u00e9:*"]}',
    );
    assert.equal(await setAcl(""), 204);
  });

  test("malformed values are 400 with tempauth's reasons, nothing stored", async () => {
    assert.equal(await setAcl(standardAcl()), 204);
    const bad: Array<[string, RegExp]> = [
      ["not json", /Syntax error in input/],
      ["[]", /Syntax error in input/],
      ['"admin"', /Syntax error in input/],
      ["null", /Syntax error in input/],
      ['{"admin":"x"}', /Value for key "admin" must be a list/],
      ['{"read-only":[1]}', /Elements of "read-only" list must be strings/],
      ['{"read-only":[null]}', /Elements of "read-only" list must be strings/],
      ['{"owner":["x"]}', /Key "owner" not recognized/],
      ['{"Admin":["x"]}', /Key "Admin" not recognized/],
      ['{"__proto__":["x"]}', /Key "__proto__" not recognized/],
      [
        JSON.stringify({ "read-only": Array.from({ length: 600 }, (_, i) => `project-${i}:user`) }),
        /longer than 8192/,
      ],
    ];
    for (const [value, why] of bad) {
      const r = await o.sw("POST", "", { headers: { "x-account-access-control": value } });
      assert.equal(r.status, 400, value);
      assert.match(r.text, why, value);
      assert.match(String(r.headers["content-type"]), /^text\/plain/);
    }
    const shown = (await o.sw("HEAD", "")).headers["x-account-access-control"] as string;
    assert.deepEqual(JSON.parse(shown), JSON.parse(standardAcl()));
    // Metadata sent beside a bad ACL is not stored either.
    await o.sw("POST", "", { headers: { "x-account-access-control": "{", "x-account-meta-beside": "1" } });
    assert.equal((await o.sw("HEAD", "")).headers["x-account-meta-beside"], undefined);
  });

  test("read-only: list and read the account, containers and objects; change nothing", async () => {
    assert.equal(await setAcl(standardAcl()), 204);
    assert.equal((await o.sw("PUT", "/ro-c", { headers: { "x-container-meta-m": "v" } })).status, 201);
    assert.equal(
      (await o.sw("PUT", "/ro-c/obj", { body: "data", headers: { "x-object-meta-k": "1" } })).status,
      201,
    );
    const t = tok.ro;
    const list = await o.sw("GET", "?format=json", { token: t });
    assert.equal(list.status, 200);
    assert.ok(list.json.some((c: { name: string }) => c.name === "ro-c"));
    assert.equal((await o.sw("HEAD", "", { token: t })).status, 204);
    const hc = await o.sw("HEAD", "/ro-c", { token: t });
    assert.equal(hc.status, 204);
    assert.equal(hc.headers["x-container-meta-m"], "v");
    assert.equal((await o.sw("GET", "/ro-c", { token: t })).text, "obj\n");
    const obj = await o.sw("GET", "/ro-c/obj", { token: t });
    assert.equal(obj.text, "data");
    assert.equal(obj.headers["x-object-meta-k"], "1");
    assert.equal((await o.sw("HEAD", "/ro-c/obj", { token: t })).status, 200);
    // Every change is refused.
    assert.equal((await o.sw("PUT", "/ro-c/new", { token: t, body: "x" })).status, 403);
    assert.equal(
      (await o.sw("POST", "/ro-c/obj", { token: t, headers: { "x-object-meta-k": "2" } })).status,
      403,
    );
    assert.equal((await o.sw("DELETE", "/ro-c/obj", { token: t })).status, 403);
    assert.equal((await o.sw("PUT", "/ro-c2", { token: t })).status, 403);
    assert.equal(
      (await o.sw("POST", "/ro-c", { token: t, headers: { "x-container-meta-m": "w" } })).status,
      403,
    );
    assert.equal((await o.sw("DELETE", "/ro-c", { token: t })).status, 403);
    assert.equal((await o.sw("POST", "", { token: t, headers: { "x-account-meta-a": "1" } })).status, 403);
    assert.equal(
      (await o.sw("COPY", "/ro-c/obj", { token: t, headers: { destination: "ro-c/copy" } })).status,
      403,
    );
    assert.equal((await o.sw("POST", "?bulk-delete", { token: t, body: "/ro-c/obj\n" })).status, 403);
    // Another of pA's users is not named; the grant is the demo account's only.
    assert.equal((await o.sw("GET", "/ro-c/obj", { token: tok.none })).status, 403);
    assert.equal((await o.sw("GET", "", { token: t, account: `AUTH_${ids.pB}` })).status, 403);
    assert.equal((await o.sw("GET", "", { token: null })).status, 401);
  });

  test("read-write (*:<user>, any project's token): containers and objects, not the account nor privileged headers", async () => {
    assert.equal(await setAcl(standardAcl()), 204);
    for (const t of [tok.rw, tok.rwElsewhere]) {
      const c = t === tok.rw ? "rw-c" : "rw-d";
      assert.equal((await o.sw("GET", "", { token: t })).status, 200);
      assert.equal(
        (await o.sw("PUT", `/${c}`, { token: t, headers: { "x-container-meta-a": "1" } })).status,
        201,
      );
      assert.equal(
        (await o.sw("POST", `/${c}`, { token: t, headers: { "x-container-meta-b": "2" } })).status,
        204,
      );
      assert.equal((await o.sw("PUT", `/${c}/o`, { token: t, body: "v1" })).status, 201);
      assert.equal(
        (await o.sw("POST", `/${c}/o`, { token: t, headers: { "x-object-meta-x": "y" } })).status,
        202,
      );
      assert.equal(
        (await o.sw("COPY", `/${c}/o`, { token: t, headers: { destination: `${c}/o2` } })).status,
        201,
      );
      // The owner sees what the grantee wrote.
      assert.equal((await o.sw("GET", `/${c}/o2`)).text, "v1");
      assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-container-meta-b"], "2");
      // Privileged headers: ACLs and Temp-URL keys, set or removed, are refused; nothing else in the request lands.
      const privileged: Array<Record<string, string>> = [
        { "x-container-read": "*:*" },
        { "x-container-write": "*:*" },
        { "x-remove-container-read": "x" },
        { "x-container-meta-temp-url-key": "k" },
        { "x-remove-container-meta-temp-url-key-2": "x" },
      ];
      for (const headers of privileged) {
        const all = { ...headers, "x-container-meta-sneak": "1" };
        assert.equal(
          (await o.sw("POST", `/${c}`, { token: t, headers: all })).status,
          403,
          JSON.stringify(headers),
        );
        assert.equal(
          (await o.sw("PUT", `/${c}`, { token: t, headers: all })).status,
          403,
          JSON.stringify(headers),
        );
      }
      assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-container-meta-sneak"], undefined);
      // The account itself: metadata, ACL, Temp-URL key.
      assert.equal((await o.sw("POST", "", { token: t, headers: { "x-account-meta-a": "1" } })).status, 403);
      assert.equal(await setAcl(JSON.stringify({ admin: [`*:${ids.rw}`] }), t), 403);
      assert.equal(
        (await o.sw("POST", "", { token: t, headers: { "x-account-meta-temp-url-key": "k" } })).status,
        403,
      );
      // The owner's ACLs on a container stay hidden from the grantee.
      assert.equal((await o.sw("POST", `/${c}`, { headers: { "x-container-read": ".r:*" } })).status, 204);
      assert.equal((await o.sw("HEAD", `/${c}`, { token: t })).headers["x-container-read"], undefined);
      assert.equal((await o.sw("DELETE", `/${c}/o`, { token: t })).status, 204);
      // Bulk delete (what `swift delete` uses) works in the account, then the container goes.
      const bulk = await o.sw("POST", "?bulk-delete", {
        token: t,
        headers: { accept: "application/json" },
        body: `/${c}/o2\n`,
      });
      assert.equal(bulk.status, 200);
      assert.equal(bulk.json["Number Deleted"], 1);
      assert.equal((await o.sw("DELETE", `/${c}`, { token: t })).status, 204);
    }
    // The higher of a role and a grant counts: the project's reader, granted read-write, writes.
    assert.equal((await o.sw("PUT", "/rd-c", { token: tok.reader })).status, 403);
    assert.equal(await setAcl(JSON.stringify({ "read-write": [`*:${ids.reader}`] })), 204);
    assert.equal((await o.sw("PUT", "/rd-c", { token: tok.reader })).status, 201);
    assert.equal((await o.sw("DELETE", "/rd-c", { token: tok.reader })).status, 204);
    // Read-write in demo's account is nothing in another.
    assert.equal((await o.sw("PUT", "/x", { token: tok.rw, account: `AUTH_${ids.pB}` })).status, 403);
  });

  test("admin (a bare project id names all its users): everything the owner does, the account's ACL included", async () => {
    assert.equal(await setAcl(standardAcl()), 204);
    const t = tok.adm;
    assert.equal(
      (await o.sw("PUT", "/adm-c", { token: t, headers: { "x-container-read": `${ids.pA}:*` } })).status,
      201,
    );
    assert.equal((await o.sw("HEAD", "/adm-c", { token: t })).headers["x-container-read"], `${ids.pA}:*`);
    assert.equal(
      (await o.sw("POST", "/adm-c", { token: t, headers: { "x-container-meta-temp-url-key": "k" } })).status,
      204,
    );
    assert.equal((await o.sw("HEAD", "/adm-c", { token: t })).headers["x-container-meta-temp-url-key"], "k");
    assert.equal(
      (await o.sw("POST", "", { token: t, headers: { "x-account-meta-set-by": "adm" } })).status,
      204,
    );
    assert.equal((await o.sw("HEAD", "")).headers["x-account-meta-set-by"], "adm");
    // The container read grant now lets pA's other user read it.
    assert.equal((await o.sw("PUT", "/adm-c/o", { token: t, body: "x" })).status, 201);
    assert.equal((await o.sw("GET", "/adm-c/o", { token: tok.none })).text, "x");
    // Account quotas stay the reseller's.
    assert.equal(
      (await o.sw("POST", "", { token: t, headers: { "x-account-meta-quota-bytes": "10" } })).status,
      403,
    );
    // The admin changes the ACL: "<project>:*" lets every user of pA read; the admin keeps its grant.
    assert.equal((await o.sw("PUT", "/adm-d/o", { token: t, body: "y" })).status, 404);
    assert.equal((await o.sw("PUT", "/adm-d", { token: t })).status, 201);
    assert.equal((await o.sw("PUT", "/adm-d/o", { token: t, body: "y" })).status, 201);
    assert.equal((await o.sw("GET", "/adm-d/o", { token: tok.none })).status, 403);
    assert.equal(await setAcl(JSON.stringify({ admin: [ids.pC], "read-only": [`${ids.pA}:*`] }), t), 204);
    assert.equal((await o.sw("GET", "/adm-d/o", { token: tok.none })).text, "y");
    assert.equal((await o.sw("PUT", "/adm-c/p", { token: tok.rw, body: "x" })).status, 403);
    // The admin can take its own grant away, and is then out.
    assert.equal(await setAcl(JSON.stringify({ "read-only": [`${ids.pA}:*`] }), t), 204);
    assert.equal((await o.sw("HEAD", "", { token: t })).status, 403);
    assert.equal((await o.sw("GET", "/adm-d", { token: tok.none })).status, 200);
    assert.equal(await setAcl(""), 204);
    assert.equal((await o.sw("GET", "/adm-d", { token: tok.none })).status, 403);
  });
});

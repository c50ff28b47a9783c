// Names in container and account ACLs across Keystone domains: a grant by project and user name stands for the
// default domain's, so a same-named user or project of another domain is refused (403) while grants by id reach
// anyone; object.allowNamesInAcls off turns name grants off entirely.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
const pw = "Passw0rd-acld";
const NAME_GRANT = "acld-proj:acld-user";
/** Tokens of the same-named user and project, "<user's domain><project's domain>" (d: default, b: the other). */
const tok = { dd: "", bb: "", db: "", bd: "" };
/** Ids of the other domain's user and project. */
const other = { user: "", project: "" };

before(async () => {
  o = await bootObjectCloud();
  const t = o.t;
  const admin = await t.adminToken();
  const dom = await t.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "acld-b" } } });
  assert.equal(dom.status, 201, dom.text);
  const b = dom.body.domain.id as string;
  const pD = await t.createProject("acld-proj");
  const pB = await t.createProject("acld-proj", { domain_id: b });
  const uD = await t.createUser("acld-user", pw);
  const uB = await t.createUser("acld-user", pw, { domain_id: b });
  const member = await t.roleId("member");
  for (const p of [pD.id, pB.id])
    for (const u of [uD.id, uB.id]) {
      const r = await t.req("PUT", `/v3/projects/${p}/users/${u}/roles/${member}`, { token: admin });
      assert.equal(r.status, 204, r.text);
    }
  const userB = { name: "acld-user", domain: { id: b } };
  const scopeB = { project: { name: "acld-proj", domain: { id: b } } };
  tok.dd = await t.token("acld-user", pw, "acld-proj");
  tok.bb = await t.token(userB, pw, scopeB);
  tok.db = await t.token("acld-user", pw, scopeB);
  tok.bd = await t.token(userB, pw, "acld-proj");
  Object.assign(other, { user: uB.id, project: pB.id });
});
after(() => o.close());

let n = 0;
/** A new container in demo's account holding one object, with these container headers. */
async function container(headers: Record<string, string>): Promise<string> {
  const c = `acld-${++n}`;
  assert.equal((await o.sw("PUT", `/${c}`, { headers })).status, 201);
  assert.equal((await o.sw("PUT", `/${c}/doc`, { body: "shared" })).status, 201);
  return c;
}

/** The status of each token's GET of a path in demo's account. */
async function reads(path: string): Promise<Record<keyof typeof tok, number>> {
  const out = { dd: 0, bb: 0, db: 0, bd: 0 };
  for (const k of Object.keys(tok) as Array<keyof typeof tok>)
    out[k] = (await o.sw("GET", path, { token: tok[k] })).status;
  return out;
}

describe("container ACLs across domains", () => {
  test("a read grant by name admits the default domain's user and project only", async () => {
    const c = await container({ "x-container-read": NAME_GRANT });
    assert.deepEqual(await reads(`/${c}/doc`), { dd: 200, bb: 403, db: 403, bd: 403 });
  });

  test("wildcards beside a name still need the default domain for the named side", async () => {
    const c = await container({ "x-container-read": "*:acld-user,acld-proj:*" });
    assert.deepEqual(await reads(`/${c}/doc`), { dd: 200, bb: 403, db: 403, bd: 403 });
  });

  test("a write grant by name: the other domain's same-named user is refused, the default one writes", async () => {
    const c = await container({ "x-container-write": NAME_GRANT });
    assert.equal((await o.sw("PUT", `/${c}/b`, { token: tok.bb, body: "x" })).status, 403);
    assert.equal((await o.sw("PUT", `/${c}/d`, { token: tok.dd, body: "x" })).status, 201);
  });

  test("grants by id admit the other domain's user", async () => {
    const id = `${other.project}:${other.user}`;
    const c = await container({ "x-container-read": id, "x-container-write": id });
    assert.deepEqual(await reads(`/${c}/doc`), { dd: 403, bb: 200, db: 403, bd: 403 });
    assert.equal((await o.sw("PUT", `/${c}/b`, { token: tok.bb, body: "x" })).status, 201);
  });

  test("with object.allowNamesInAcls off, names admit nobody and ids still do", async () => {
    const c = await container({ "x-container-read": `${NAME_GRANT},${other.project}:${other.user}` });
    const cfg = o.t.cloud.cfg.object;
    cfg.allowNamesInAcls = false;
    try {
      assert.deepEqual(await reads(`/${c}/doc`), { dd: 403, bb: 200, db: 403, bd: 403 });
    } finally {
      cfg.allowNamesInAcls = true;
    }
    assert.deepEqual(await reads(`/${c}/doc`), { dd: 200, bb: 200, db: 403, bd: 403 });
  });
});

describe("account ACLs across domains", () => {
  /** Set demo's account ACL as its owner. */
  const setAcl = async (acl: Record<string, string[]>) =>
    assert.equal(
      (await o.sw("POST", "", { headers: { "x-account-access-control": JSON.stringify(acl) } })).status,
      204,
    );
  test("a read-only grant by name admits the default domain's user and project only", async () => {
    await container({});
    await setAcl({ "read-only": [NAME_GRANT] });
    assert.deepEqual(await reads(""), { dd: 200, bb: 403, db: 403, bd: 403 });
  });

  test("a read-write grant of a bare project name: the other domain's same-named project cannot write", async () => {
    await setAcl({ "read-write": ["acld-proj"] });
    assert.equal((await o.sw("PUT", "/acld-acct-b", { token: tok.bb })).status, 403);
    assert.equal((await o.sw("PUT", "/acld-acct-d", { token: tok.dd })).status, 201);
  });

  test("a grant by id admits the other domain's user", async () => {
    await setAcl({ "read-only": [`${other.project}:${other.user}`] });
    assert.deepEqual(await reads(""), { dd: 403, bb: 200, db: 403, bd: 403 });
  });
});

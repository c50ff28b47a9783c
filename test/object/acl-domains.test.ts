// Names in container and account ACLs across Keystone domains: a grant by project and user name stands for the
// default domain's, so a same-named user or project of another domain is refused (403) while grants by id reach
// anyone; object.allowNamesInAcls off turns name grants off entirely. In another project's account names count only
// when the account's project is recorded in the default domain (or, for an account made before the recording, when
// nothing is recorded).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PROJECT_DOMAIN_KEY, updateAccountMeta } from "../../src/object/store/accounts.js";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
const pw = "Passw0rd-acld";
const NAME_GRANT = "acld-proj:acld-user";
/** Tokens of the same-named user and project, "<user's domain><project's domain>" (d: default, b: the other). */
const tok = { dd: "", bb: "", db: "", bd: "" };
/** Ids of the other domain's user and project. */
const other = { user: "", project: "", domain: "" };
/** Ids of the default domain's user and project. */
const dflt = { user: "", project: "" };
/** Tokens of a ResellerAdmin, and of the member of a default-domain project "acld-e" (its account's owner). */
const extra = { reseller: "", eOwner: "", eProject: "" };

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
  Object.assign(other, { user: uB.id, project: pB.id, domain: b });
  Object.assign(dflt, { user: uD.id, project: pD.id });
  const pE = await t.createProject("acld-e");
  const uE = await t.createUser("acld-e-user", pw);
  const pR = await t.createProject("acld-r");
  const uR = await t.createUser("acld-reseller", pw);
  for (const [p, u, role] of [
    [pE.id, uE.id, member],
    [pR.id, uR.id, await t.roleId("ResellerAdmin")],
  ]) {
    const r = await t.req("PUT", `/v3/projects/${p}/users/${u}/roles/${role}`, { token: admin });
    assert.equal(r.status, 204, r.text);
  }
  extra.eOwner = await t.token("acld-e-user", pw, "acld-e");
  // Scoped to another project: its token does not tell acld-e's domain.
  extra.reseller = await t.token("acld-reseller", pw, "acld-r");
  extra.eProject = pE.id;
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

describe("names in an account of another domain's project", () => {
  const acctB = () => `AUTH_${other.project}`;
  /** A container its owner (the other domain's user and project) makes in its account, holding one object. */
  async function containerB(headers: Record<string, string>): Promise<string> {
    const c = `acld-b-${++n}`;
    const opts = { token: tok.bb, account: acctB() };
    assert.equal((await o.sw("PUT", `/${c}`, { ...opts, headers })).status, 201);
    assert.equal((await o.sw("PUT", `/${c}/doc`, { ...opts, body: "shared" })).status, 201);
    return c;
  }
  /** The default-domain user's status reading a path of the other domain's account. */
  const readB = async (path: string) => (await o.sw("GET", path, { token: tok.dd, account: acctB() })).status;

  test("a container read grant by name refuses the default domain's same-named caller; one by id admits", async () => {
    const named = await containerB({ "x-container-read": NAME_GRANT });
    assert.equal(await readB(`/${named}/doc`), 403);
    const byId = await containerB({ "x-container-read": `${dflt.project}:${dflt.user}` });
    assert.equal(await readB(`/${byId}/doc`), 200);
    // The account's owner reads both; a default-domain account's name grant still admits (demo's, above).
    assert.equal((await o.sw("GET", `/${named}/doc`, { token: tok.bb, account: acctB() })).status, 200);
  });

  test("an account ACL grant by name refuses the default domain's same-named caller; one by id admits", async () => {
    const setAcl = async (acl: Record<string, string[]>) => {
      const headers = { "x-account-access-control": JSON.stringify(acl) };
      assert.equal((await o.sw("POST", "", { token: tok.bb, account: acctB(), headers })).status, 204);
    };
    await setAcl({ "read-only": [NAME_GRANT] });
    assert.equal(await readB(""), 403);
    await setAcl({ "read-only": [`${dflt.project}:${dflt.user}`] });
    assert.equal(await readB(""), 200);
    await setAcl({});
  });

  test("each account keeps its owner's project domain as hidden system metadata", async () => {
    assert.equal(await accountDomain(acctB()), other.domain);
    assert.equal(await accountDomain(o.account), "default");
    const head = await o.sw("HEAD", "", { token: tok.bb, account: acctB() });
    assert.equal(head.status, 204);
    assert.ok(!Object.keys(head.headers).some((h) => h.includes("sysmeta") || h.includes("domain")));
  });

  test("an account made before domains were recorded admits names until its owner makes a container", async () => {
    const named = await containerB({ "x-container-read": NAME_GRANT });
    const core = o.t.cloud.object.core;
    await updateAccountMeta(core, acctB(), (m) => (m.delete(PROJECT_DOMAIN_KEY), m));
    assert.equal(await readB(`/${named}/doc`), 200);
    await containerB({});
    assert.equal(await readB(`/${named}/doc`), 403);
  });

  test("an account a reseller admin made has an unknown domain: names refused until its owner makes a container", async () => {
    const acctE = `AUTH_${extra.eProject}`;
    const c = "acld-e-shared";
    const headers = { "x-container-read": NAME_GRANT };
    assert.equal(
      (await o.sw("PUT", `/${c}`, { token: extra.reseller, account: acctE, headers })).status,
      201,
    );
    assert.equal(
      (await o.sw("PUT", `/${c}/doc`, { token: extra.reseller, account: acctE, body: "x" })).status,
      201,
    );
    const readE = async () => (await o.sw("GET", `/${c}/doc`, { token: tok.dd, account: acctE })).status;
    assert.equal(await readE(), 403);
    assert.equal((await o.sw("PUT", "/acld-e-own", { token: extra.eOwner, account: acctE })).status, 201);
    assert.equal(await readE(), 200);
  });
});

/** The project domain recorded for an account (undefined when none). */
async function accountDomain(account: string): Promise<string | undefined> {
  const row = await o.t.cloud.object.core.db
    .selectFrom("object_account")
    .select("meta")
    .where("account", "=", account)
    .executeTakeFirst();
  return row ? (JSON.parse(row.meta) as Record<string, string>)[PROJECT_DOMAIN_KEY] : undefined;
}

// /v2/metadefs/namespaces: CRUD, protection, visibility and ownership, paging and sorting, policy, errors.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootImageCloud, isGlanceError, type ImageTestCloud } from "./helpers.js";

let t: ImageTestCloud;

before(async () => {
  t = await bootImageCloud();
});
after(() => t.close());

const NS = "/v2/metadefs/namespaces";
const create = (body: Record<string, unknown>, token?: string) => t.img("POST", NS, { body, token });

describe("namespace CRUD", () => {
  test("create: 201, Glance's shape, defaults private/unprotected/owner = caller's project, Location", async () => {
    const r = await create({
      namespace: "Test::Basic",
      display_name: "Basic",
      description: "A test namespace",
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), [
      "created_at",
      "description",
      "display_name",
      "namespace",
      "owner",
      "protected",
      "schema",
      "self",
      "updated_at",
      "visibility",
    ]);
    assert.equal(r.body.visibility, "private");
    assert.equal(r.body.protected, false);
    assert.equal(r.body.owner, t.adminProject);
    assert.equal(r.body.self, "/v2/metadefs/namespaces/Test::Basic");
    assert.equal(r.headers.location, "http://localhost:80/image/v2/metadefs/namespaces/Test::Basic");
    const got = await t.img("GET", `${NS}/Test::Basic`);
    assert.equal(got.status, 200);
    assert.equal(got.body.namespace, "Test::Basic");
    assert.equal(got.body.description, "A test namespace");
    assert.equal(got.body.objects, undefined);
  });

  test("create with contents: properties, objects, tags and resource type associations", async () => {
    const r = await create({
      namespace: "Test::Full",
      visibility: "public",
      resource_type_associations: [{ name: "OS::Glance::Image", prefix: "x_" }, { name: "Test::NewType" }],
      properties: {
        speed: { title: "Speed", type: "integer", minimum: 1, maximum: 10, extra_key: "dropped" },
      },
      objects: [
        { name: "Obj", description: "d", required: ["a"], properties: { a: { title: "A", type: "string" } } },
      ],
      tags: [{ name: "t1" }, { name: "t2" }],
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body.properties, {
      speed: { maximum: 10, minimum: 1, title: "Speed", type: "integer" },
    });
    assert.deepEqual(
      r.body.tags.map((x: any) => x.name),
      ["t1", "t2"],
    );
    assert.equal(r.body.objects[0].name, "Obj");
    assert.deepEqual(
      r.body.resource_type_associations.map((a: any) => a.name),
      ["OS::Glance::Image", "Test::NewType"],
    );
    // The association created the new resource type.
    const rts = await t.img("GET", "/v2/metadefs/resource_types");
    assert.ok(rts.body.resource_types.some((x: any) => x.name === "Test::NewType"));
    const show = await t.img("GET", `${NS}/Test::Full?resource_type=OS::Glance::Image`);
    assert.ok(show.body.properties.x_speed);
    assert.deepEqual(show.body.objects[0].required, ["x_a"]);
    assert.ok(show.body.objects[0].properties.x_a);
  });

  test("a failing create leaves nothing behind (duplicate object names are a 409)", async () => {
    const r = await create({
      namespace: "Test::Atomic",
      objects: [{ name: "same" }, { name: "same" }],
    });
    assert.equal(r.status, 409);
    assert.ok(isGlanceError(r.body, 409));
    assert.equal((await t.img("GET", `${NS}/Test::Atomic`)).status, 404);
  });

  test("duplicate namespace is 409, missing is 404", async () => {
    assert.equal((await create({ namespace: "Test::Dup" })).status, 201);
    const r = await create({ namespace: "Test::Dup" });
    assert.equal(r.status, 409);
    assert.ok(isGlanceError(r.body, 409));
    assert.equal(r.body.code, "409 Conflict");
    const m = await t.img("GET", `${NS}/Test::Missing`);
    assert.equal(m.status, 404);
    assert.ok(isGlanceError(m.body, 404));
    assert.equal((await t.img("DELETE", `${NS}/Test::Missing`)).status, 404);
    assert.equal((await t.img("PUT", `${NS}/Test::Missing`, { body: { namespace: "x" } })).status, 404);
  });

  test("update replaces the namespace's attributes; omitted ones go back to defaults; renames", async () => {
    await create({
      namespace: "Test::Upd",
      display_name: "D",
      description: "desc",
      visibility: "public",
      protected: true,
    });
    const r = await t.img("PUT", `${NS}/Test::Upd`, {
      body: { namespace: "Test::Upd2", description: "new", owner: t.demoProject },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.namespace, "Test::Upd2");
    assert.equal(r.body.description, "new");
    assert.equal(r.body.display_name, undefined);
    assert.equal(r.body.visibility, "private");
    assert.equal(r.body.protected, false);
    assert.equal(r.body.owner, t.demoProject);
    assert.equal((await t.img("GET", `${NS}/Test::Upd`)).status, 404);
    assert.equal((await t.img("GET", `${NS}/Test::Upd2`)).status, 200);
    // Renaming onto an existing namespace is a conflict.
    await create({ namespace: "Test::Taken" });
    const c = await t.img("PUT", `${NS}/Test::Upd2`, { body: { namespace: "Test::Taken" } });
    assert.equal(c.status, 409);
  });

  test("a protected namespace cannot be deleted (403) until unprotected; delete removes its contents", async () => {
    await create({
      namespace: "Test::Prot",
      protected: true,
      properties: { p: { title: "P", type: "string" } },
      tags: [{ name: "t" }],
    });
    const d = await t.img("DELETE", `${NS}/Test::Prot`);
    assert.equal(d.status, 403);
    assert.ok(isGlanceError(d.body, 403));
    assert.match(d.body.message, /protected/);
    const u = await t.img("PUT", `${NS}/Test::Prot`, { body: { namespace: "Test::Prot", protected: false } });
    assert.equal(u.body.protected, false);
    assert.equal((await t.img("DELETE", `${NS}/Test::Prot`)).status, 204);
    assert.equal((await t.img("GET", `${NS}/Test::Prot`)).status, 404);
    // Re-creating the name starts empty.
    await create({ namespace: "Test::Prot" });
    const props = await t.img("GET", `${NS}/Test::Prot/properties`);
    assert.deepEqual(props.body.properties, {});
  });
});

describe("namespace input validation", () => {
  test("bad bodies are 400 in Glance's error format", async () => {
    const cases: unknown[] = [
      {},
      { namespace: 5 },
      { namespace: "x".repeat(81) },
      { namespace: "" },
      { namespace: "Test::V", visibility: "shared" },
      { namespace: "Test::V", protected: "yes" },
      { namespace: "Test::V", unknown: 1 },
      { namespace: "Test::V", properties: { p: { type: "string" } } },
      { namespace: "Test::V", properties: { p: { title: "t", type: "weird" } } },
      { namespace: "Test::V", tags: [{ name: "y".repeat(81) }] },
      { namespace: "Test::V", resource_type_associations: [{ prefix: "x" }] },
      { namespace: "Test::V\u0000" },
      [1, 2],
    ];
    for (const body of cases) {
      const r = await create(body as Record<string, unknown>);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.ok(isGlanceError(r.body, 400));
    }
    const noBody = await t.img("POST", NS);
    assert.equal(noBody.status, 400);
    const notJson = await t.img("POST", NS, {
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    assert.equal(notJson.status, 400);
    assert.equal((await t.img("GET", `${NS}/Test::V`)).status, 404);
  });

  test("read-only attributes are 403", async () => {
    for (const k of ["self", "schema", "created_at", "updated_at"]) {
      const r = await create({ namespace: "Test::RO", [k]: "x" });
      assert.equal(r.status, 403, k);
      assert.equal(r.body.message, `Attribute '${k}' is read-only.`);
    }
  });

  test("unsupported methods are 405 with Allow; no token is 401", async () => {
    const p = await t.img("PATCH", NS, { body: {} });
    assert.equal(p.status, 405);
    assert.equal(p.headers.allow, "GET, POST");
    const q = await t.img("POST", `${NS}/OS::Compute::Watchdog`, { body: {} });
    assert.equal(q.status, 405);
    assert.equal(q.headers.allow, "GET, PUT, DELETE");
    const r = await t.img("GET", NS, { token: null });
    assert.equal(r.status, 401);
    assert.ok(isGlanceError(r.body, 401));
  });
});

describe("visibility, ownership and policy", () => {
  before(async () => {
    await create({ namespace: "Vis::AdminPrivate", visibility: "private" });
    await create({ namespace: "Vis::AdminPublic", visibility: "public", tags: [{ name: "pub" }] });
    await create({
      namespace: "Vis::DemoPrivate",
      visibility: "private",
      owner: t.demoProject,
      tags: [{ name: "mine" }],
    });
  });

  test("demo lists public namespaces and its project's private ones, not others' private ones", async () => {
    const r = await t.img("GET", `${NS}?limit=1000`, { token: t.demo });
    const names = r.body.namespaces.map((n: any) => n.namespace);
    assert.ok(names.includes("Vis::AdminPublic"));
    assert.ok(names.includes("Vis::DemoPrivate"));
    assert.ok(!names.includes("Vis::AdminPrivate"));
    const adminList = await t.img("GET", `${NS}?limit=1000`);
    assert.ok(adminList.body.namespaces.some((n: any) => n.namespace === "Vis::DemoPrivate"));
    assert.ok(adminList.body.namespaces.some((n: any) => n.namespace === "Vis::AdminPrivate"));
  });

  test("another project's private namespace is a 404 for everything, contents included", async () => {
    for (const path of ["", "/objects", "/properties", "/tags", "/resource_types", "/tags/x", "/objects/x"]) {
      const r = await t.img("GET", `${NS}/Vis::AdminPrivate${path}`, { token: t.demo });
      assert.equal(r.status, 404, path);
    }
    const d = await t.img("DELETE", `${NS}/Vis::AdminPrivate`, { token: t.demo });
    assert.equal(d.status, 404);
    const tag = await t.img("POST", `${NS}/Vis::AdminPrivate/tags/x`, { token: t.demo });
    assert.equal(tag.status, 404);
  });

  test("demo may read but not write visible namespaces (403), even its own project's", async () => {
    assert.equal((await t.img("GET", `${NS}/Vis::AdminPublic/tags/pub`, { token: t.demo })).status, 200);
    assert.equal((await t.img("GET", `${NS}/Vis::DemoPrivate/tags/mine`, { token: t.demo })).status, 200);
    const writes: Array<[string, string, unknown?]> = [
      ["POST", NS, { namespace: "Demo::New" }],
      ["PUT", `${NS}/Vis::AdminPublic`, { namespace: "Vis::AdminPublic" }],
      ["DELETE", `${NS}/Vis::AdminPublic`],
      ["DELETE", `${NS}/Vis::DemoPrivate`],
      ["POST", `${NS}/Vis::AdminPublic/tags/new`],
      ["POST", `${NS}/Vis::AdminPublic/tags`, { tags: [{ name: "a" }] }],
      ["PUT", `${NS}/Vis::AdminPublic/tags/pub`, { name: "renamed" }],
      ["DELETE", `${NS}/Vis::AdminPublic/tags/pub`],
      ["DELETE", `${NS}/Vis::AdminPublic/tags`],
      ["POST", `${NS}/Vis::AdminPublic/objects`, { name: "o" }],
      ["POST", `${NS}/Vis::AdminPublic/properties`, { name: "p", title: "P", type: "string" }],
      ["POST", `${NS}/Vis::AdminPublic/resource_types`, { name: "OS::Nova::Flavor" }],
      ["DELETE", `${NS}/Vis::AdminPublic/objects`],
      ["DELETE", `${NS}/Vis::AdminPublic/properties`],
    ];
    for (const [method, path, body] of writes) {
      const r = await t.img(method, path, { token: t.demo, ...(body ? { body } : {}) });
      assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
      assert.ok(isGlanceError(r.body, 403));
    }
    assert.equal((await t.img("GET", `${NS}/Vis::AdminPublic/tags/pub`)).status, 200);
  });

  test("a token without the reader role sees nothing (policy), admins everything", async () => {
    // A user with a role that implies nothing: get_metadef_namespaces needs reader on the project.
    const roleR = await t.c.req("POST", "/v3/roles", {
      token: t.admin,
      body: { role: { name: "md-nobody" } },
    });
    const user = await t.c.createUser("md-user", "md-password-1");
    const demoProject = t.demoProject;
    await t.c.req("PUT", `/v3/projects/${demoProject}/users/${user.id}/roles/${roleR.body.role.id}`, {
      token: t.admin,
    });
    const tok = await t.c.token("md-user", "md-password-1", "demo");
    const r = await t.img("GET", NS, { token: tok });
    assert.equal(r.status, 403);
    const s = await t.img("GET", `${NS}/Vis::AdminPublic`, { token: tok });
    assert.equal(s.status, 404);
  });
});

describe("listing: filters, sorting and paging", () => {
  before(async () => {
    for (const n of ["Page::A", "Page::B", "Page::C", "Page::D", "Page::E"])
      await create({
        namespace: n,
        visibility: "public",
        resource_type_associations: [{ name: "Page::Type" }],
      });
  });

  const pageNames = (r: any) => r.body.namespaces.map((n: any) => n.namespace);

  test("resource_types filter and visibility filter", async () => {
    const r = await t.img("GET", `${NS}?resource_types=Page::Type`);
    assert.deepEqual(pageNames(r).sort(), ["Page::A", "Page::B", "Page::C", "Page::D", "Page::E"]);
    assert.ok(r.body.namespaces.every((n: any) => n.resource_type_associations[0].name === "Page::Type"));
    const two = await t.img("GET", `${NS}?resource_types=Page::Type,OS::Nova::Aggregate&limit=1000`);
    assert.ok(pageNames(two).includes("OS::Compute::HostCapabilities"));
    assert.ok(pageNames(two).includes("Page::C"));
    const none = await t.img("GET", `${NS}?resource_types=No::Such`);
    assert.deepEqual(none.body.namespaces, []);
    const priv = await t.img("GET", `${NS}?visibility=private&limit=1000`);
    assert.ok(priv.body.namespaces.every((n: any) => n.visibility === "private"));
    assert.ok(priv.body.namespaces.length > 0);
  });

  test("sort_key/sort_dir and limit/marker pages with a next link that keeps the query", async () => {
    const q = `resource_types=Page::Type&sort_key=namespace&sort_dir=asc`;
    const p1 = await t.img("GET", `${NS}?${q}&limit=2`);
    assert.deepEqual(pageNames(p1), ["Page::A", "Page::B"]);
    assert.equal(
      p1.body.first,
      `${NS}?resource_types=Page%3A%3AType&sort_key=namespace&sort_dir=asc&limit=2`,
    );
    assert.equal(
      p1.body.next,
      `${NS}?resource_types=Page%3A%3AType&sort_key=namespace&sort_dir=asc&limit=2&marker=Page%3A%3AB`,
    );
    const p2 = await t.img("GET", p1.body.next);
    assert.deepEqual(pageNames(p2), ["Page::C", "Page::D"]);
    const p3 = await t.img("GET", p2.body.next);
    assert.deepEqual(pageNames(p3), ["Page::E"]);
    assert.equal(p3.body.next, undefined);
    const desc = await t.img("GET", `${NS}?resource_types=Page::Type&sort_key=namespace&sort_dir=desc`);
    assert.deepEqual(pageNames(desc), ["Page::E", "Page::D", "Page::C", "Page::B", "Page::A"]);
    // Default order: newest first.
    const dflt = await t.img("GET", `${NS}?resource_types=Page::Type`);
    assert.deepEqual(pageNames(dflt), ["Page::E", "Page::D", "Page::C", "Page::B", "Page::A"]);
  });

  test("the default page is 25 namespaces with a next link; following it reaches every namespace once", async () => {
    const all = await t.img("GET", `${NS}?limit=1000`);
    const total = all.body.namespaces.length;
    assert.ok(total > 25);
    const first = await t.img("GET", NS);
    assert.equal(first.body.namespaces.length, 25);
    const seen: string[] = pageNames(first);
    let next = first.body.next;
    while (next) {
      const r = await t.img("GET", next);
      seen.push(...pageNames(r));
      next = r.body.next;
    }
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
  });

  test("bad paging parameters are 400; an unknown marker is 404", async () => {
    for (const q of ["limit=x", "limit=-1", "sort_dir=up", "sort_key=bogus", "visibility=shared"]) {
      const r = await t.img("GET", `${NS}?${q}`);
      assert.equal(r.status, 400, q);
      assert.ok(isGlanceError(r.body, 400));
    }
    assert.equal((await t.img("GET", `${NS}?marker=No::Such`)).status, 404);
    // Another project's private namespace is no marker for demo either.
    assert.equal((await t.img("GET", `${NS}?marker=Vis::AdminPrivate`, { token: t.demo })).status, 404);
    const zero = await t.img("GET", `${NS}?limit=0`);
    assert.deepEqual(zero.body.namespaces, []);
    assert.equal(zero.body.next, undefined);
  });
});

// Objects, properties, tags and resource type associations of a namespace, and tempest's metadef scenarios.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootImageCloud, isGlanceError, seg, type ImageTestCloud } from "./helpers.js";

let t: ImageTestCloud;
const NS = "/v2/metadefs/namespaces";

before(async () => {
  t = await bootImageCloud();
});
after(() => t.close());

/** Create a fresh namespace for one test. */
async function ns(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await t.img("POST", NS, { body: { namespace: name, visibility: "public", ...extra } });
  assert.equal(r.status, 201, r.text);
  return `${NS}/${seg(name)}`;
}

/** Unprotect a namespace, keeping its other attributes. */
async function unprotect(path: string, name: string): Promise<void> {
  const r = await t.img("PUT", path, { body: { namespace: name, visibility: "public", protected: false } });
  assert.equal(r.status, 200, r.text);
}

describe("objects", () => {
  test("create, show, list, update (rename), delete", async () => {
    const base = await ns("Obj::Crud");
    const c = await t.img("POST", `${base}/objects`, {
      body: {
        name: "Limits",
        description: "Some limits",
        required: ["a"],
        properties: {
          a: { title: "A", type: "integer", minimum: 0 },
          b: { title: "B", type: "string", enum: ["x", "y"] },
        },
      },
    });
    assert.equal(c.status, 201, c.text);
    assert.deepEqual(Object.keys(c.body).sort(), [
      "created_at",
      "description",
      "name",
      "properties",
      "required",
      "schema",
      "self",
      "updated_at",
    ]);
    assert.equal(c.body.self, "/v2/metadefs/namespaces/Obj::Crud/objects/Limits");
    assert.equal(c.body.schema, "/v2/schemas/metadefs/object");
    assert.deepEqual(c.body.properties.b, { enum: ["x", "y"], title: "B", type: "string" });
    const got = await t.img("GET", `${base}/objects/Limits`);
    assert.deepEqual(got.body, c.body);
    const list = await t.img("GET", `${base}/objects`);
    assert.deepEqual(
      list.body.objects.map((o: any) => o.name),
      ["Limits"],
    );
    assert.equal(list.body.schema, "/v2/schemas/metadefs/objects");
    const u = await t.img("PUT", `${base}/objects/Limits`, {
      body: { name: "Limits2", description: "changed" },
    });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.body.name, "Limits2");
    assert.equal(u.body.required, undefined);
    assert.deepEqual(u.body.properties, {});
    assert.equal((await t.img("GET", `${base}/objects/Limits`)).status, 404);
    assert.equal((await t.img("DELETE", `${base}/objects/Limits2`)).status, 204);
    assert.equal((await t.img("GET", `${base}/objects/Limits2`)).status, 404);
    assert.equal((await t.img("DELETE", `${base}/objects/Limits2`)).status, 404);
  });

  test("409 on duplicate names (create and rename), 400 on bad definitions, 403 on read-only keys", async () => {
    const base = await ns("Obj::Errors");
    assert.equal((await t.img("POST", `${base}/objects`, { body: { name: "one" } })).status, 201);
    assert.equal((await t.img("POST", `${base}/objects`, { body: { name: "two" } })).status, 201);
    const dup = await t.img("POST", `${base}/objects`, { body: { name: "one" } });
    assert.equal(dup.status, 409);
    assert.ok(isGlanceError(dup.body, 409));
    assert.equal((await t.img("PUT", `${base}/objects/two`, { body: { name: "one" } })).status, 409);
    for (const body of [
      {},
      { name: "" },
      { name: "x", properties: { p: { title: "P" } } },
      { name: "x", properties: { p: { title: "P", type: "string", bogus: 1 } } },
      { name: "x", required: "a" },
      { name: "x", extra: 1 },
    ]) {
      const r = await t.img("POST", `${base}/objects`, { body });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    const ro = await t.img("POST", `${base}/objects`, { body: { name: "x", self: "/x" } });
    assert.equal(ro.status, 403);
    assert.equal((await t.img("POST", `${NS}/No::Such/objects`, { body: { name: "x" } })).status, 404);
  });

  test("delete all objects; in a protected namespace single and bulk deletes are 403", async () => {
    const base = await ns("Obj::Prot", { objects: [{ name: "a" }, { name: "b" }] });
    await t.img("PUT", `${base}`, {
      body: { namespace: "Obj::Prot", visibility: "public", protected: true },
    });
    assert.equal((await t.img("DELETE", `${base}/objects/a`)).status, 403);
    assert.equal((await t.img("DELETE", `${base}/objects`)).status, 403);
    // Adding and changing stays allowed.
    assert.equal((await t.img("POST", `${base}/objects`, { body: { name: "c" } })).status, 201);
    await unprotect(base, "Obj::Prot");
    assert.equal((await t.img("DELETE", `${base}/objects`)).status, 204);
    assert.deepEqual((await t.img("GET", `${base}/objects`)).body.objects, []);
  });
});

describe("properties", () => {
  test("create, show, list, update (rename), delete; names may contain colons", async () => {
    const base = await ns("Prop::Crud");
    const c = await t.img("POST", `${base}/properties`, {
      body: {
        name: "hw:cpu_policy",
        title: "CPU policy",
        type: "string",
        enum: ["shared", "dedicated"],
        default: "shared",
        description: "d",
      },
    });
    assert.equal(c.status, 201, c.text);
    assert.deepEqual(c.body, {
      default: "shared",
      description: "d",
      enum: ["shared", "dedicated"],
      name: "hw:cpu_policy",
      title: "CPU policy",
      type: "string",
    });
    const got = await t.img("GET", `${base}/properties/hw:cpu_policy`);
    assert.deepEqual(got.body, c.body);
    const arr = await t.img("POST", `${base}/properties`, {
      body: {
        name: "features",
        title: "Features",
        type: "array",
        items: { type: "string", enum: ["a", "b"] },
        uniqueItems: true,
        minItems: 1,
        operators: ["<all-in>"],
      },
    });
    assert.equal(arr.status, 201, arr.text);
    assert.deepEqual(arr.body.items, { type: "string", enum: ["a", "b"] });
    const list = await t.img("GET", `${base}/properties`);
    assert.deepEqual(Object.keys(list.body.properties).sort(), ["features", "hw:cpu_policy"]);
    assert.equal(list.body.properties.features.name, undefined);
    const u = await t.img("PUT", `${base}/properties/hw:cpu_policy`, {
      body: { name: "hw:cpu_policy2", title: "Renamed", type: "integer", minimum: 1, maximum: 8 },
    });
    assert.equal(u.status, 200, u.text);
    assert.deepEqual(u.body, {
      maximum: 8,
      minimum: 1,
      name: "hw:cpu_policy2",
      title: "Renamed",
      type: "integer",
    });
    assert.equal((await t.img("GET", `${base}/properties/hw:cpu_policy`)).status, 404);
    assert.equal(
      (
        await t.img("PUT", `${base}/properties/features`, {
          body: { name: "hw:cpu_policy2", title: "x", type: "string" },
        })
      ).status,
      409,
    );
    assert.equal((await t.img("DELETE", `${base}/properties/hw:cpu_policy2`)).status, 204);
    assert.equal((await t.img("DELETE", `${base}/properties/hw:cpu_policy2`)).status, 404);
  });

  test("400 for invalid definitions, 409 for duplicates, 403 in protected namespaces", async () => {
    const base = await ns("Prop::Errors");
    const ok = { name: "p", title: "P", type: "string" };
    assert.equal((await t.img("POST", `${base}/properties`, { body: ok })).status, 201);
    assert.equal((await t.img("POST", `${base}/properties`, { body: ok })).status, 409);
    for (const body of [
      { title: "P", type: "string" },
      { name: "q", type: "string" },
      { name: "q", title: "Q" },
      { name: "q", title: "Q", type: "date" },
      { name: "q", title: "Q", type: "string", minLength: -1 },
      { name: "q", title: "Q", type: "string", unknown: true },
      { name: "q".repeat(81), title: "Q", type: "string" },
    ]) {
      const r = await t.img("POST", `${base}/properties`, { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(isGlanceError(r.body, 400));
    }
    const ro = await t.img("POST", `${base}/properties`, { body: { ...ok, name: "r", created_at: "x" } });
    assert.equal(ro.status, 403);
    await t.img("PUT", base, { body: { namespace: "Prop::Errors", visibility: "public", protected: true } });
    assert.equal((await t.img("DELETE", `${base}/properties/p`)).status, 403);
    assert.equal((await t.img("DELETE", `${base}/properties`)).status, 403);
    await unprotect(base, "Prop::Errors");
    assert.equal((await t.img("DELETE", `${base}/properties`)).status, 204);
    assert.deepEqual((await t.img("GET", `${base}/properties`)).body.properties, {});
  });
});

describe("tags", () => {
  test("single create, show, rename, delete", async () => {
    const base = await ns("Tag::Single");
    const c = await t.img("POST", `${base}/tags/alpha`);
    assert.equal(c.status, 201, c.text);
    assert.deepEqual(Object.keys(c.body).sort(), ["created_at", "name", "updated_at"]);
    assert.equal(c.body.name, "alpha");
    assert.equal((await t.img("POST", `${base}/tags/alpha`)).status, 409);
    assert.equal((await t.img("GET", `${base}/tags/alpha`)).body.name, "alpha");
    const u = await t.img("PUT", `${base}/tags/alpha`, { body: { name: "beta" } });
    assert.equal(u.status, 200);
    assert.equal(u.body.name, "beta");
    assert.equal((await t.img("GET", `${base}/tags/alpha`)).status, 404);
    await t.img("POST", `${base}/tags/gamma`);
    assert.equal((await t.img("PUT", `${base}/tags/gamma`, { body: { name: "beta" } })).status, 409);
    assert.equal((await t.img("PUT", `${base}/tags/gamma`, { body: {} })).status, 400);
    assert.equal((await t.img("POST", `${base}/tags/${"z".repeat(81)}`)).status, 400);
    assert.equal((await t.img("DELETE", `${base}/tags/beta`)).status, 204);
    assert.equal((await t.img("DELETE", `${base}/tags/beta`)).status, 404);
  });

  test("bulk create replaces, X-Openstack-Append appends, duplicates are a 409 that changes nothing", async () => {
    const base = await ns("Tag::Bulk");
    const names = async () =>
      ((await t.img("GET", `${base}/tags`)).body.tags as Array<{ name: string }>).map((x) => x.name).sort();
    const c = await t.img("POST", `${base}/tags`, {
      body: { tags: [{ name: "t1" }, { name: "t2" }, { name: "t3" }] },
    });
    assert.equal(c.status, 201, c.text);
    assert.deepEqual(c.body, { tags: [{ name: "t1" }, { name: "t2" }, { name: "t3" }] });
    assert.deepEqual(await names(), ["t1", "t2", "t3"]);
    const dup = await t.img("POST", `${base}/tags`, {
      body: { tags: [{ name: "t4" }, { name: "t5" }, { name: "t4" }] },
    });
    assert.equal(dup.status, 409);
    assert.deepEqual(await names(), ["t1", "t2", "t3"]);
    const app = await t.img("POST", `${base}/tags`, {
      body: { tags: [{ name: "t4" }, { name: "t5" }] },
      headers: { "x-openstack-append": "True" },
    });
    assert.equal(app.status, 201);
    assert.deepEqual(await names(), ["t1", "t2", "t3", "t4", "t5"]);
    const dupExisting = await t.img("POST", `${base}/tags`, {
      body: { tags: [{ name: "t5" }, { name: "t6" }] },
      headers: { "x-openstack-append": "yes" },
    });
    assert.equal(dupExisting.status, 409);
    assert.deepEqual(await names(), ["t1", "t2", "t3", "t4", "t5"]);
    const replace = await t.img("POST", `${base}/tags`, {
      body: { tags: [{ name: "only" }] },
      headers: { "x-openstack-append": "false" },
    });
    assert.equal(replace.status, 201);
    assert.deepEqual(await names(), ["only"]);
    for (const body of [{ tags: [{}] }, { tags: [{ name: "a", x: 1 }] }, { tags: "a" }, { other: [] }]) {
      const r = await t.img("POST", `${base}/tags`, { body });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    assert.equal((await t.img("DELETE", `${base}/tags`)).status, 204);
    assert.deepEqual(await names(), []);
  });

  test("list sorting, limit and marker", async () => {
    const base = await ns("Tag::List");
    await t.img("POST", `${base}/tags`, { body: { tags: ["c", "a", "b", "d"].map((name) => ({ name })) } });
    const get = async (q: string) =>
      (await t.img("GET", `${base}/tags?${q}`)).body.tags.map((x: any) => x.name);
    assert.deepEqual(await get("sort_key=name&sort_dir=asc"), ["a", "b", "c", "d"]);
    assert.deepEqual(await get("sort_key=name&sort_dir=desc&limit=2"), ["d", "c"]);
    assert.deepEqual(await get("sort_key=name&sort_dir=asc&marker=b"), ["c", "d"]);
    assert.deepEqual(await get("sort_key=created_at&sort_dir=asc"), ["c", "a", "b", "d"]);
    assert.deepEqual(await get(""), ["d", "b", "a", "c"]);
    assert.equal((await t.img("GET", `${base}/tags?marker=nope`)).status, 404);
    assert.equal((await t.img("GET", `${base}/tags?sort_dir=sideways`)).status, 400);
    assert.equal((await t.img("GET", `${base}/tags?limit=-3`)).status, 400);
    assert.equal((await t.img("GET", `${base}/tags?sort_key=bogus`)).status, 400);
  });

  test("protected namespaces refuse tag deletes (403)", async () => {
    const base = await ns("Tag::Prot", { protected: true, tags: [{ name: "keep" }] });
    assert.equal((await t.img("DELETE", `${base}/tags/keep`)).status, 403);
    assert.equal((await t.img("DELETE", `${base}/tags`)).status, 403);
    assert.equal((await t.img("POST", `${base}/tags/more`)).status, 201);
    await unprotect(base, "Tag::Prot");
    assert.equal((await t.img("DELETE", `${base}/tags/keep`)).status, 204);
    await unprotect(base, "Tag::Prot");
    assert.equal((await t.img("DELETE", base)).status, 204);
  });
});

describe("resource type associations", () => {
  test("create (new resource types appear), list, duplicate 409, delete, 404s", async () => {
    const base = await ns("Rt::Assoc");
    const c = await t.img("POST", `${base}/resource_types`, {
      body: { name: "OS::Cinder::Volume", prefix: "hw_", properties_target: "image" },
    });
    assert.equal(c.status, 201, c.text);
    assert.deepEqual(Object.keys(c.body).sort(), [
      "created_at",
      "name",
      "prefix",
      "properties_target",
      "updated_at",
    ]);
    assert.equal(
      (await t.img("POST", `${base}/resource_types`, { body: { name: "OS::Cinder::Volume" } })).status,
      409,
    );
    const n = await t.img("POST", `${base}/resource_types`, { body: { name: "Custom::Thing" } });
    assert.equal(n.status, 201);
    assert.equal(n.body.prefix, undefined);
    const all = await t.img("GET", "/v2/metadefs/resource_types");
    assert.ok(all.body.resource_types.some((x: any) => x.name === "Custom::Thing"));
    const list = await t.img("GET", `${base}/resource_types`, { token: t.demo });
    assert.deepEqual(
      list.body.resource_type_associations.map((a: any) => a.name),
      ["OS::Cinder::Volume", "Custom::Thing"],
    );
    assert.equal((await t.img("DELETE", `${base}/resource_types/OS::Cinder::Volume`)).status, 204);
    assert.equal((await t.img("DELETE", `${base}/resource_types/OS::Cinder::Volume`)).status, 404);
    assert.equal((await t.img("DELETE", `${base}/resource_types/Never::Heard`)).status, 404);
    for (const body of [{}, { name: "" }, { name: "x", prefix: "p".repeat(81) }, { name: "x", bogus: 1 }]) {
      const r = await t.img("POST", `${base}/resource_types`, { body });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    assert.equal(
      (await t.img("POST", `${base}/resource_types`, { body: { name: "x", created_at: "y" } })).status,
      403,
    );
    assert.equal((await t.img("GET", `${NS}/No::Such/resource_types`)).status, 404);
  });

  test("a protected namespace keeps its associations (403)", async () => {
    const base = await ns("Rt::Prot", {
      protected: true,
      resource_type_associations: [{ name: "OS::Nova::Flavor" }],
    });
    assert.equal((await t.img("DELETE", `${base}/resource_types/OS::Nova::Flavor`)).status, 403);
    await unprotect(base, "Rt::Prot");
    assert.equal((await t.img("DELETE", `${base}/resource_types/OS::Nova::Flavor`)).status, 204);
  });
});

describe("tempest scenarios", () => {
  test("test_basic_metadata_definition_namespaces", async () => {
    const rt = (await t.img("GET", "/v2/metadefs/resource_types")).body.resource_types[0].name;
    const name = "tempest-namespace-1";
    const c = await t.img("POST", NS, {
      body: {
        namespace: name,
        visibility: "public",
        description: "Tempest",
        display_name: name,
        resource_type_associations: [{ name: rt }],
        protected: true,
      },
    });
    assert.equal(c.status, 201);
    const list = await t.img("GET", NS);
    assert.ok(list.body.namespaces.some((n: any) => n.namespace === name));
    const show = await t.img("GET", `${NS}/${name}`);
    assert.equal(show.body.visibility, "public");
    assert.equal((await t.img("DELETE", `${NS}/${name}`)).status, 403);
    const u = await t.img("PUT", `${NS}/${name}`, {
      body: {
        namespace: name,
        description: "Tempest",
        visibility: "private",
        display_name: name,
        protected: false,
      },
    });
    assert.equal(u.body.visibility, "private");
    assert.equal(u.body.protected, false);
    assert.equal((await t.img("DELETE", `${NS}/${name}`)).status, 204);
    assert.equal((await t.img("GET", `${NS}/${name}`)).status, 404);
  });

  test("test_basic_meta_def_namespace_property (the property is named after a resource type)", async () => {
    const rt = (await t.img("GET", "/v2/metadefs/resource_types")).body.resource_types[0].name;
    const base = await ns("tempest-namespace-2");
    assert.equal((await t.img("POST", `${base}/resource_types`, { body: { name: rt } })).status, 201);
    const enumv = ["xen", "qemu", "kvm", "lxc", "uml", "vmware", "hyperv"];
    const c = await t.img("POST", `${base}/properties`, {
      body: { title: "property-1", name: rt, type: "string", enum: enumv },
    });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.body.title, "property-1");
    const show = await t.img("GET", `${base}/properties/${rt}`);
    assert.equal(show.body.name, rt);
    const u = await t.img("PUT", `${base}/properties/${rt}`, {
      body: { title: "update-property", type: "string", enum: enumv, name: rt },
    });
    assert.equal(u.body.title, "update-property");
    assert.equal((await t.img("DELETE", `${base}/properties/${rt}`)).status, 204);
    const props = await t.img("GET", `${base}/properties`);
    assert.deepEqual(props.body.properties, {});
    assert.equal((await t.img("DELETE", base)).status, 204);
  });

  test("test_create_update_delete_tag with an empty JSON body on POST", async () => {
    const base = await ns("tempest-namespace-3");
    const c = await t.img("POST", `${base}/tags/tag_name-1`, {
      body: "",
      headers: { "content-type": "application/json" },
    });
    assert.equal(c.status, 201, c.text);
    const u = await t.img("PUT", `${base}/tags/tag_name-1`, { body: { name: "update-tag" } });
    assert.equal(u.body.name, "update-tag");
    assert.equal((await t.img("DELETE", `${base}/tags/update-tag`)).status, 204);
  });
});

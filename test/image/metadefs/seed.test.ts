// The default catalog seeded at start, the resource type list and the metadef schemas.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  DEFAULT_RESOURCE_TYPES,
  defaultCatalog,
  seedMetadefs,
} from "../../../src/image/metadefs-seed/index.js";
import { bootImageCloud, isGlanceError, seg, type ImageTestCloud } from "./helpers.js";

let t: ImageTestCloud;

before(async () => {
  t = await bootImageCloud();
});
after(() => t.close());

const REQUIRED = [
  "OS::Compute::Hypervisor",
  "OS::Compute::Watchdog",
  "OS::Compute::VirtCPUTopology",
  "OS::Compute::Quota",
  "OS::Compute::LibvirtImage",
  "OS::Compute::RandomNumberGenerator",
  "OS::Compute::GuestMemoryBacking",
  "OS::Compute::HostCapabilities",
  "OS::Glance::CommonImageProperties",
];

describe("default catalog", () => {
  test("every seeded namespace is listed, public, protected where the catalog says so, owned by admin", async () => {
    const r = await t.img("GET", "/v2/metadefs/namespaces?limit=1000");
    assert.equal(r.status, 200);
    const byName = new Map<string, any>(r.body.namespaces.map((n: any) => [n.namespace, n]));
    for (const name of REQUIRED) assert.ok(byName.has(name), `${name} is seeded`);
    for (const ns of defaultCatalog) {
      const got = byName.get(ns.namespace);
      assert.ok(got, ns.namespace);
      assert.equal(got.visibility, "public");
      assert.equal(got.protected, ns.protected);
      assert.equal(got.owner, "admin");
      assert.equal(got.self, `/v2/metadefs/namespaces/${ns.namespace}`);
      assert.equal(got.schema, "/v2/schemas/metadefs/namespace");
      assert.match(got.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    assert.equal(r.body.schema, "/v2/schemas/metadefs/namespaces");
    assert.equal(r.body.first, "/v2/metadefs/namespaces?limit=1000");
  });

  test("a demo user sees the public catalog", async () => {
    const r = await t.img("GET", "/v2/metadefs/namespaces?limit=1000", { token: t.demo });
    assert.equal(r.status, 200);
    const names = r.body.namespaces.map((n: any) => n.namespace);
    for (const name of REQUIRED) assert.ok(names.includes(name), name);
    const w = await t.img("GET", "/v2/metadefs/namespaces/OS::Compute::Watchdog", { token: t.demo });
    assert.equal(w.status, 200);
    assert.deepEqual(w.body.properties.watchdog_action.enum, [
      "disabled",
      "reset",
      "poweroff",
      "pause",
      "none",
    ]);
  });

  test("resource types: the defaults, listed with timestamps, OS::Glance::Image first", async () => {
    const r = await t.img("GET", "/v2/metadefs/resource_types", { token: t.demo });
    assert.equal(r.status, 200);
    const names = r.body.resource_types.map((x: any) => x.name);
    for (const n of DEFAULT_RESOURCE_TYPES) assert.ok(names.includes(n), n);
    assert.equal(names[0], "OS::Glance::Image");
    assert.deepEqual(Object.keys(r.body.resource_types[0]).sort(), ["created_at", "name", "updated_at"]);
  });

  test("CPU topology: prefixes per resource type, and the prefix applied on request", async () => {
    const r = await t.img("GET", "/v2/metadefs/namespaces/OS::Compute::VirtCPUTopology");
    assert.equal(r.status, 200);
    const rts = Object.fromEntries(r.body.resource_type_associations.map((a: any) => [a.name, a]));
    assert.equal(rts["OS::Glance::Image"].prefix, "hw_");
    assert.equal(rts["OS::Nova::Flavor"].prefix, "hw:");
    assert.equal(rts["OS::Cinder::Volume"].properties_target, "image");
    assert.ok(r.body.properties.cpu_sockets);
    const img = await t.img(
      "GET",
      "/v2/metadefs/namespaces/OS::Compute::VirtCPUTopology?resource_type=OS::Glance::Image",
    );
    for (const k of ["hw_cpu_sockets", "hw_cpu_cores", "hw_cpu_threads"])
      assert.ok(img.body.properties[k], k);
    const fl = await t.img(
      "GET",
      "/v2/metadefs/namespaces/OS::Compute::VirtCPUTopology?resource_type=OS::Nova::Flavor",
    );
    for (const k of ["hw:cpu_sockets", "hw:cpu_cores", "hw:cpu_threads"]) assert.ok(fl.body.properties[k], k);
    // A single property by its prefixed name.
    const p = await t.img(
      "GET",
      "/v2/metadefs/namespaces/OS::Compute::VirtCPUTopology/properties/hw_cpu_cores?resource_type=OS::Glance::Image",
    );
    assert.equal(p.status, 200);
    assert.equal(p.body.name, "cpu_cores");
    assert.equal(p.body.type, "integer");
    const bad = await t.img(
      "GET",
      "/v2/metadefs/namespaces/OS::Compute::VirtCPUTopology/properties/cpu_cores?resource_type=OS::Glance::Image",
    );
    assert.equal(bad.status, 404);
  });

  test("quota objects, host capabilities, libvirt image and common image properties", async () => {
    const q = await t.img("GET", "/v2/metadefs/namespaces/OS::Compute::Quota/objects", { token: t.demo });
    assert.equal(q.status, 200);
    const objs = Object.fromEntries(q.body.objects.map((o: any) => [o.name, o]));
    assert.ok(objs["CPU Limits"].properties["quota:cpu_period"]);
    assert.equal(objs["CPU Limits"].properties["quota:cpu_period"].maximum, 1000000);
    assert.ok(objs["Memory Limits"].properties["quota:memory_limit"]);
    assert.equal(objs["CPU Limits"].self, "/v2/metadefs/namespaces/OS::Compute::Quota/objects/CPU Limits");
    const one = await t.img("GET", `/v2/metadefs/namespaces/OS::Compute::Quota/objects/${seg("Disk QoS")}`);
    assert.equal(one.status, 200);
    assert.ok(one.body.properties["quota:disk_read_iops_sec"]);

    const hc = await t.img(
      "GET",
      "/v2/metadefs/namespaces/OS::Compute::HostCapabilities?resource_type=OS::Nova::Aggregate",
    );
    assert.equal(hc.body.properties["aggregate_instance_extra_specs:cpu_info:features"].type, "array");
    assert.ok(
      hc.body.properties["aggregate_instance_extra_specs:cpu_info:features"].items.enum.includes("avx2"),
    );

    const lv = await t.img("GET", "/v2/metadefs/namespaces/OS::Compute::LibvirtImage/properties");
    for (const k of [
      "hw_disk_bus",
      "hw_vif_model",
      "hw_video_model",
      "hw_qemu_guest_agent",
      "os_require_quiesce",
    ])
      assert.ok(lv.body.properties[k], k);
    assert.equal(lv.body.properties.hw_disk_bus.name, undefined);

    const cp = await t.img(
      "GET",
      "/v2/metadefs/namespaces/OS::Glance::CommonImageProperties/properties/architecture",
    );
    assert.equal(cp.status, 200);
    assert.ok(cp.body.enum.includes("x86_64"));
    assert.ok(cp.body.enum.includes("aarch64"));

    const byRt = await t.img("GET", "/v2/metadefs/namespaces?resource_types=OS::Nova::Aggregate&limit=100");
    const names = byRt.body.namespaces.map((n: any) => n.namespace);
    assert.ok(names.includes("OS::Compute::HostCapabilities"));
    assert.ok(!names.includes("OS::Compute::Watchdog"));
  });

  test("seeding again changes nothing; a deleted seeded namespace is not brought back", async () => {
    const before = (await t.img("GET", "/v2/metadefs/namespaces?limit=1000")).body.namespaces.length;
    await seedMetadefs(t.c.cloud.db.kysely);
    const again = (await t.img("GET", "/v2/metadefs/namespaces?limit=1000")).body.namespaces.length;
    assert.equal(again, before);
    const rts = (await t.img("GET", "/v2/metadefs/resource_types")).body.resource_types;
    assert.equal(new Set(rts.map((x: any) => x.name)).size, rts.length);

    // Unprotect and delete one, re-seed: it stays deleted.
    const ns = (await t.img("GET", "/v2/metadefs/namespaces/OS::Compute::GuestShutdownBehavior")).body;
    const put = await t.img("PUT", "/v2/metadefs/namespaces/OS::Compute::GuestShutdownBehavior", {
      body: {
        namespace: ns.namespace,
        display_name: ns.display_name,
        visibility: "public",
        protected: false,
      },
    });
    assert.equal(put.status, 200);
    assert.equal(
      (await t.img("DELETE", "/v2/metadefs/namespaces/OS::Compute::GuestShutdownBehavior")).status,
      204,
    );
    await seedMetadefs(t.c.cloud.db.kysely);
    assert.equal(
      (await t.img("GET", "/v2/metadefs/namespaces/OS::Compute::GuestShutdownBehavior")).status,
      404,
    );
  });
});

describe("metadef schemas", () => {
  const NAMES: Record<string, string> = {
    namespace: "namespace",
    namespaces: "namespaces",
    resource_type: "resource_type_association",
    resource_types: "resource_type_associations",
    object: "object",
    objects: "objects",
    property: "property",
    properties: "properties",
    tag: "tag",
    tags: "tags",
  };

  test("each schema answers with its name (as tempest checks), for a reader too", async () => {
    for (const [path, name] of Object.entries(NAMES)) {
      const r = await t.img("GET", `/v2/schemas/metadefs/${path}`, { token: t.demo });
      assert.equal(r.status, 200, path);
      assert.equal(r.body.name, name, path);
    }
  });

  test("shapes: required fields, collections with links, properties as a dict collection", async () => {
    const ns = (await t.img("GET", "/v2/schemas/metadefs/namespace")).body;
    assert.deepEqual(ns.required, ["namespace"]);
    assert.equal(ns.additionalProperties, false);
    assert.deepEqual(ns.properties.visibility.enum, ["public", "private"]);
    assert.ok(ns.definitions.property);
    const list = (await t.img("GET", "/v2/schemas/metadefs/namespaces")).body;
    assert.equal(list.properties.namespaces.type, "array");
    assert.deepEqual(
      list.links.map((l: any) => l.rel),
      ["first", "next", "describedby"],
    );
    const props = (await t.img("GET", "/v2/schemas/metadefs/properties")).body;
    assert.equal(props.properties.properties.type, "object");
    const prop = (await t.img("GET", "/v2/schemas/metadefs/property")).body;
    assert.deepEqual(prop.required, ["type", "title", "name"]);
  });

  test("schemas need a token; other methods are 405 with Allow", async () => {
    const r = await t.img("GET", "/v2/schemas/metadefs/namespace", { token: null });
    assert.equal(r.status, 401);
    const p = await t.img("POST", "/v2/schemas/metadefs/namespace", { body: {} });
    assert.equal(p.status, 405);
    assert.equal(p.headers.allow, "GET");
    assert.ok(isGlanceError(p.body, 405));
  });
});

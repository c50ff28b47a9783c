// Placement: the version document, microversion negotiation, error bodies, policy, and resource providers
// (create/show/update/delete, list filters, nested trees and re-parenting) across microversions.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { assertPlacementError, bootPlacement, type PlacementCloud } from "./helpers.js";

let p: PlacementCloud;
before(async () => {
  p = await bootPlacement();
});
after(() => p.close());

describe("version document and microversions", () => {
  test("GET / needs no token and names min 1.0 and max 1.39", async () => {
    const r = await p.req("GET", "/", { token: null });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      versions: [
        {
          id: "v1.0",
          max_version: "1.39",
          min_version: "1.0",
          status: "CURRENT",
          links: [{ rel: "self", href: "" }],
        },
      ],
    });
    assert.equal(r.headers["openstack-api-version"], "placement 1.0");
    assert.match(String(r.headers.vary), /OpenStack-API-Version/);
  });

  test("latest is 1.39; 1.15+ adds cache headers", async () => {
    const r = await p.req("GET", "/", { mv: "latest" });
    assert.equal(r.headers["openstack-api-version"], "placement 1.39");
    assert.equal(r.headers["cache-control"], "no-cache");
    assert.ok(r.headers["last-modified"]);
    const old = await p.req("GET", "/", { mv: "1.14" });
    assert.equal(old.headers["cache-control"], undefined);
  });

  test("an unsupported version is 406 with min and max; a malformed one 400", async () => {
    for (const mv of ["0.5", "1.40", "2.0"]) {
      const r = await p.req("GET", "/resource_providers", { mv });
      assertPlacementError(r, 406);
      assert.equal(r.body.errors[0].detail, `Unacceptable version header: ${mv}`);
      assert.equal(r.body.errors[0].max_version, "1.39");
      assert.equal(r.body.errors[0].min_version, "1.0");
      assert.equal(r.body.errors[0].title, "Not Acceptable");
    }
    const bad = await p.req("GET", "/", { mv: "pony.horse" });
    assertPlacementError(bad, 400);
    assert.match(bad.body.errors[0].detail, /invalid version string: pony.horse/);
  });

  test("errors carry request_id always and code from 1.23", async () => {
    const missing = `/resource_providers/${randomUUID()}`;
    const old = await p.req("GET", missing, { mv: "1.22" });
    assertPlacementError(old, 404);
    assert.equal("code" in old.body.errors[0], false);
    const now = await p.req("GET", missing, { mv: "1.23" });
    assertPlacementError(now, 404, "placement.undefined_code");
  });

  test("no token is 401; a non-admin is 403; an unknown method is 405 with Allow", async () => {
    assertPlacementError(await p.req("GET", "/resource_providers", { token: null }), 401);
    const demo = await p.c.demoToken();
    assertPlacementError(await p.req("GET", "/resource_providers", { token: demo, mv: "latest" }), 403);
    const r = await p.req("PATCH", "/resource_providers", { mv: "latest" });
    assertPlacementError(r, 405);
    assert.equal(r.headers.allow, "GET, POST");
  });

  test("a GET that does not accept JSON is 406", async () => {
    assertPlacementError(
      await p.req("GET", "/resource_providers", { mv: "latest", headers: { accept: "text/html" } }),
      406,
    );
    const ok = await p.req("GET", "/resource_providers", {
      mv: "latest",
      headers: { accept: "text/html, */*;q=0.1" },
    });
    assert.equal(ok.status, 200);
  });

  test("routes newer than the request's microversion are 404", async () => {
    assertPlacementError(await p.req("GET", "/traits", { mv: "1.5" }), 404);
    assertPlacementError(await p.req("GET", "/resource_classes", { mv: "1.1" }), 404);
    assertPlacementError(await p.req("GET", "/allocation_candidates?resources=VCPU:1", { mv: "1.9" }), 404);
    assertPlacementError(await p.req("GET", "/usages?project_id=x", { mv: "1.8" }), 404);
  });
});

describe("resource providers", () => {
  test("create before 1.20 is 201 with Location and no body; from 1.20 200 with the provider", async () => {
    const uuid = randomUUID();
    const r = await p.req("POST", "/resource_providers", { body: { name: "old-style", uuid } });
    assert.equal(r.status, 201);
    assert.equal(r.text, "");
    assert.match(String(r.headers.location), new RegExp(`/placement/resource_providers/${uuid}$`));
    const n = await p.ok("POST", "/resource_providers", 200, { mv: "1.20", body: { name: "new-style" } });
    assert.match(n.uuid, /^[0-9a-f-]{36}$/);
    assert.equal(n.generation, 0);
    assert.equal("parent_provider_uuid" in n, true);
  });

  test("uuids are normalized; name is required and at most 200 characters", async () => {
    const raw = randomUUID().replace(/-/g, "").toUpperCase();
    const rp = await p.ok("POST", "/resource_providers", 200, {
      mv: "latest",
      body: { name: "norm", uuid: raw },
    });
    assert.equal(rp.uuid.replace(/-/g, ""), raw.toLowerCase());
    assertPlacementError(await p.req("POST", "/resource_providers", { mv: "latest", body: {} }), 400);
    assertPlacementError(
      await p.req("POST", "/resource_providers", { mv: "latest", body: { name: "x".repeat(201) } }),
      400,
    );
    assertPlacementError(
      await p.req("POST", "/resource_providers", { mv: "latest", body: { name: "y", uuid: "not-a-uuid" } }),
      400,
    );
    assertPlacementError(
      await p.req("POST", "/resource_providers", { mv: "latest", body: { name: "z", extra: 1 } }),
      400,
    );
  });

  test("a non-JSON body is 415", async () => {
    const r = await p.req("POST", "/resource_providers", {
      mv: "latest",
      body: "name=x",
      headers: { "content-type": "text/plain" },
    });
    assertPlacementError(r, 415);
  });

  test("duplicate name or uuid is 409 placement.duplicate_name", async () => {
    const rp = await p.provider("dup-name");
    assertPlacementError(
      await p.req("POST", "/resource_providers", { mv: "latest", body: { name: "dup-name" } }),
      409,
      "placement.duplicate_name",
    );
    assertPlacementError(
      await p.req("POST", "/resource_providers", { mv: "latest", body: { name: "other", uuid: rp.uuid } }),
      409,
      "placement.duplicate_name",
    );
  });

  test("show, links per microversion, rename, delete", async () => {
    const rp = await p.provider("show-me");
    const v10 = await p.ok("GET", `/resource_providers/${rp.uuid}`, 200);
    assert.deepEqual(
      v10.links.map((l: any) => l.rel),
      ["self", "inventories", "usages"],
    );
    assert.equal("root_provider_uuid" in v10, false);
    const v111 = await p.ok("GET", `/resource_providers/${rp.uuid}`, 200, { mv: "1.11" });
    assert.deepEqual(
      v111.links.map((l: any) => l.rel),
      ["self", "inventories", "usages", "aggregates", "traits", "allocations"],
    );
    const renamed = await p.ok("PUT", `/resource_providers/${rp.uuid}`, 200, {
      mv: "latest",
      body: { name: "shown" },
    });
    assert.equal(renamed.name, "shown");
    assert.equal(renamed.generation, rp.generation, "a rename does not bump the generation");
    const other = await p.provider("taken-name");
    assertPlacementError(
      await p.req("PUT", `/resource_providers/${rp.uuid}`, { mv: "latest", body: { name: other.name } }),
      409,
      "placement.duplicate_name",
    );
    await p.ok("DELETE", `/resource_providers/${rp.uuid}`, 204);
    assertPlacementError(await p.req("GET", `/resource_providers/${rp.uuid}`), 404);
    assertPlacementError(await p.req("DELETE", `/resource_providers/${rp.uuid}`), 404);
  });

  test("list filters: name, uuid, member_of (in:, repeated, forbidden), resources, required, in_tree", async () => {
    const agg1 = randomUUID();
    const agg2 = randomUUID();
    const a = await p.provider("filt-a");
    const b = await p.provider("filt-b");
    const c = await p.provider("filt-c");
    await p.ok("PUT", `/resource_providers/${a.uuid}/aggregates`, 200, {
      mv: "1.19",
      body: { aggregates: [agg1, agg2], resource_provider_generation: 0 },
    });
    await p.ok("PUT", `/resource_providers/${b.uuid}/aggregates`, 200, {
      mv: "1.19",
      body: { aggregates: [agg2], resource_provider_generation: 0 },
    });
    const names = async (q: string, mv = "latest") =>
      (await p.ok("GET", `/resource_providers?${q}`, 200, { mv })).resource_providers
        .map((r: any) => r.name)
        .filter((n: string) => n.startsWith("filt-"))
        .sort();
    assert.deepEqual(await names("name=filt-b"), ["filt-b"]);
    assert.deepEqual(await names(`uuid=${c.uuid}`), ["filt-c"]);
    assert.deepEqual(await names(`member_of=${agg1}`, "1.3"), ["filt-a"]);
    assert.deepEqual(await names(`member_of=in:${agg1},${agg2}`, "1.3"), ["filt-a", "filt-b"]);
    assert.deepEqual(await names(`member_of=${agg1}&member_of=${agg2}`, "1.24"), ["filt-a"]);
    assertPlacementError(
      await p.req("GET", `/resource_providers?member_of=${agg1}&member_of=${agg2}`, { mv: "1.23" }),
      400,
    );
    assert.deepEqual(await names(`member_of=!${agg1}`, "1.32"), ["filt-b", "filt-c"]);
    assertPlacementError(await p.req("GET", `/resource_providers?member_of=!${agg1}`, { mv: "1.31" }), 400);
    assertPlacementError(
      await p.req("GET", `/resource_providers?member_of=${agg1},${agg2}`, { mv: "latest" }),
      400,
    );
    assertPlacementError(await p.req("GET", `/resource_providers?member_of=nope`, { mv: "latest" }), 400);
    // member_of is unknown at 1.2.
    assertPlacementError(await p.req("GET", `/resource_providers?member_of=${agg1}`, { mv: "1.2" }), 400);

    await p.inventory(a.uuid, { VCPU: { total: 8 }, MEMORY_MB: { total: 1024, max_unit: 512 } });
    await p.inventory(b.uuid, { VCPU: { total: 2 } });
    assert.deepEqual(await names("resources=VCPU:4", "1.4"), ["filt-a"]);
    assert.deepEqual(await names("resources=VCPU:2"), ["filt-a", "filt-b"]);
    assert.deepEqual(await names("resources=MEMORY_MB:1024"), [], "max_unit 512 refuses 1024");
    assertPlacementError(await p.req("GET", "/resource_providers?resources=NOPE:1", { mv: "latest" }), 400);
    assertPlacementError(await p.req("GET", "/resource_providers?resources=VCPU:0", { mv: "latest" }), 400);
    assertPlacementError(await p.req("GET", "/resource_providers?resources=VCPU", { mv: "latest" }), 400);

    await p.ok("PUT", `/traits/CUSTOM_FILT`, 201, { mv: "latest" });
    await p.ok("PUT", `/resource_providers/${c.uuid}/traits`, 200, {
      mv: "latest",
      body: { traits: ["CUSTOM_FILT", "HW_CPU_X86_AVX2"], resource_provider_generation: 0 },
    });
    assert.deepEqual(await names("required=CUSTOM_FILT", "1.18"), ["filt-c"]);
    assert.deepEqual(await names("required=!CUSTOM_FILT", "1.22"), ["filt-a", "filt-b"]);
    assertPlacementError(
      await p.req("GET", "/resource_providers?required=!CUSTOM_FILT", { mv: "1.21" }),
      400,
    );
    assert.deepEqual(await names("required=in:CUSTOM_FILT,STORAGE_DISK_SSD", "1.39"), ["filt-c"]);
    assertPlacementError(
      await p.req("GET", "/resource_providers?required=in:CUSTOM_FILT", { mv: "1.38" }),
      400,
    );
    assertPlacementError(
      await p.req("GET", "/resource_providers?required=CUSTOM_NOPE", { mv: "latest" }),
      400,
    );
    assertPlacementError(await p.req("GET", "/resource_providers?required=CUSTOM_FILT", { mv: "1.17" }), 400);

    const child = await p.provider("filt-child", { parent_provider_uuid: c.uuid });
    assert.deepEqual(await names(`in_tree=${child.uuid}`, "1.14"), ["filt-c", "filt-child"]);
    assert.deepEqual(await names(`in_tree=${randomUUID()}`, "1.14"), []);
    assertPlacementError(await p.req("GET", `/resource_providers?in_tree=${c.uuid}`, { mv: "1.13" }), 400);
  });
});

describe("nested providers", () => {
  test("parent and root uuids from 1.14; a parent with children cannot be deleted", async () => {
    const root = await p.provider("tree-root");
    const mid = await p.provider("tree-mid", { parent_provider_uuid: root.uuid });
    const leaf = await p.provider("tree-leaf", { parent_provider_uuid: mid.uuid });
    assert.equal(mid.parent_provider_uuid, root.uuid);
    assert.equal(leaf.root_provider_uuid, root.uuid);
    assert.equal(leaf.parent_provider_uuid, mid.uuid);
    assertPlacementError(
      await p.req("DELETE", `/resource_providers/${mid.uuid}`, { mv: "latest" }),
      409,
      "placement.resource_provider.cannot_delete_parent",
    );
    assertPlacementError(
      await p.req("POST", "/resource_providers", {
        mv: "latest",
        body: { name: "orphan", parent_provider_uuid: randomUUID() },
      }),
      400,
    );
    assertPlacementError(
      await p.req("POST", "/resource_providers", {
        mv: "1.13",
        body: { name: "early", parent_provider_uuid: root.uuid },
      }),
      400,
    );
  });

  test("re-parenting and un-parenting only from 1.37, never into a loop", async () => {
    const r1 = await p.provider("rp-root1");
    const r2 = await p.provider("rp-root2");
    const child = await p.provider("rp-child", { parent_provider_uuid: r1.uuid });
    const grandchild = await p.provider("rp-grandchild", { parent_provider_uuid: child.uuid });
    // A root may get a parent at any version from 1.14.
    const adopted = await p.ok("PUT", `/resource_providers/${r2.uuid}`, 200, {
      mv: "1.14",
      body: { name: r2.name, parent_provider_uuid: r1.uuid },
    });
    assert.equal(adopted.root_provider_uuid, r1.uuid);
    assertPlacementError(
      await p.req("PUT", `/resource_providers/${child.uuid}`, {
        mv: "1.36",
        body: { name: child.name, parent_provider_uuid: r2.uuid },
      }),
      400,
    );
    assertPlacementError(
      await p.req("PUT", `/resource_providers/${child.uuid}`, {
        mv: "1.36",
        body: { name: child.name, parent_provider_uuid: null },
      }),
      400,
    );
    assertPlacementError(
      await p.req("PUT", `/resource_providers/${child.uuid}`, {
        mv: "1.37",
        body: { name: child.name, parent_provider_uuid: grandchild.uuid },
      }),
      400,
    );
    const freed = await p.ok("PUT", `/resource_providers/${child.uuid}`, 200, {
      mv: "1.37",
      body: { name: child.name, parent_provider_uuid: null },
    });
    assert.equal(freed.parent_provider_uuid, null);
    assert.equal(freed.root_provider_uuid, child.uuid);
    const gc = await p.ok("GET", `/resource_providers/${grandchild.uuid}`, 200, { mv: "latest" });
    assert.equal(gc.root_provider_uuid, child.uuid, "the subtree moves with it");
    const moved = await p.ok("PUT", `/resource_providers/${child.uuid}`, 200, {
      mv: "1.37",
      body: { name: child.name, parent_provider_uuid: r2.uuid },
    });
    assert.equal(moved.root_provider_uuid, r1.uuid);
    const gc2 = await p.ok("GET", `/resource_providers/${grandchild.uuid}`, 200, { mv: "latest" });
    assert.equal(gc2.root_provider_uuid, r1.uuid);
  });
});

// Placement inventories (all and one), their validation, generations and 409s, and provider usages.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { assertPlacementError, bootPlacement, type PlacementCloud } from "./helpers.js";

let p: PlacementCloud;
before(async () => {
  p = await bootPlacement();
});
after(() => p.close());

const INV = "/inventories";

describe("inventories", () => {
  test("PUT all fills defaults, bumps the generation; GET all and one", async () => {
    const rp = await p.provider();
    const base = `/resource_providers/${rp.uuid}${INV}`;
    const empty = await p.ok("GET", base, 200);
    assert.deepEqual(empty, { resource_provider_generation: 0, inventories: {} });
    const put = await p.ok("PUT", base, 200, {
      body: {
        resource_provider_generation: 0,
        inventories: {
          VCPU: { total: 8, allocation_ratio: 16.0 },
          DISK_GB: { total: 100, reserved: 10, step_size: 10 },
        },
      },
    });
    assert.equal(put.resource_provider_generation, 1);
    assert.deepEqual(put.inventories.VCPU, {
      total: 8,
      reserved: 0,
      min_unit: 1,
      max_unit: 2147483647,
      step_size: 1,
      allocation_ratio: 16,
    });
    const one = await p.ok("GET", `${base}/DISK_GB`, 200);
    assert.equal(one.reserved, 10);
    assert.equal(one.resource_provider_generation, 1);
    assertPlacementError(await p.req("GET", `${base}/MEMORY_MB`), 404);
    assertPlacementError(await p.req("GET", `/resource_providers/${randomUUID()}${INV}`), 404);
  });

  test("stale generations are 409 placement.concurrent_update; two writers, one wins", async () => {
    const rp = await p.provider();
    const base = `/resource_providers/${rp.uuid}${INV}`;
    const body = (gen: number, total: number) => ({
      mv: "latest",
      body: { resource_provider_generation: gen, inventories: { VCPU: { total } } },
    });
    const [a, b] = await Promise.all([p.req("PUT", base, body(0, 4)), p.req("PUT", base, body(0, 8))]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [200, 409]);
    assertPlacementError(a.status === 409 ? a : b, 409, "placement.concurrent_update");
    assertPlacementError(await p.req("PUT", base, body(0, 2)), 409, "placement.concurrent_update");
    assertPlacementError(
      await p.req("PUT", `${base}/VCPU`, {
        mv: "latest",
        body: { resource_provider_generation: 0, total: 3 },
      }),
      409,
      "placement.concurrent_update",
    );
    const ok = await p.ok("PUT", `${base}/VCPU`, 200, {
      mv: "latest",
      body: { resource_provider_generation: 1, total: 3 },
    });
    assert.equal(ok.total, 3);
    assert.equal(ok.resource_provider_generation, 2);
    // Traits, aggregates (1.19) and allocations bump it too.
    assertPlacementError(
      await p.req("PUT", `/resource_providers/${rp.uuid}/traits`, {
        mv: "latest",
        body: { traits: [], resource_provider_generation: 1 },
      }),
      409,
      "placement.concurrent_update",
    );
  });

  test("validation: schema, unknown class, reserved vs total (1.26), generation required", async () => {
    const rp = await p.provider();
    const base = `/resource_providers/${rp.uuid}${INV}`;
    const put = (inv: Record<string, unknown>, mv = "latest", gen = 0) =>
      p.req("PUT", base, { mv, body: { resource_provider_generation: gen, inventories: { VCPU: inv } } });
    assertPlacementError(await put({ total: 0 }), 400);
    assertPlacementError(await put({ total: 4, reserved: -1 }), 400);
    assertPlacementError(await put({ total: 4, min_unit: 0 }), 400);
    assertPlacementError(await put({ total: 4, step_size: 0 }), 400);
    assertPlacementError(await put({ total: 4, max_unit: 2147483648 }), 400);
    assertPlacementError(await put({ total: 4, allocation_ratio: "x" }), 400);
    assertPlacementError(await put({ total: 4, bogus: 1 }), 400);
    assertPlacementError(await put({ total: 4, reserved: 5 }), 400);
    assertPlacementError(await put({ total: 4, reserved: 4 }, "1.25"), 400);
    const r = await put({ total: 4, reserved: 4 }, "1.26");
    assert.equal(r.status, 200, r.text);
    assertPlacementError(
      await p.req("PUT", base, {
        mv: "latest",
        body: { resource_provider_generation: 1, inventories: { NOPE: { total: 1 } } },
      }),
      400,
    );
    assertPlacementError(await p.req("PUT", base, { mv: "latest", body: { inventories: {} } }), 400);
    assertPlacementError(
      await p.req("PUT", `${base}/VCPU`, { mv: "latest", body: { total: 4 } }),
      400,
      "placement.undefined_code",
    );
  });

  test("POST one is 201 with Location; a second of the same class 409; PUT one needs an existing record", async () => {
    const rp = await p.provider();
    const base = `/resource_providers/${rp.uuid}${INV}`;
    const r = await p.req("POST", base, { mv: "latest", body: { resource_class: "DISK_GB", total: 50 } });
    assert.equal(r.status, 201, r.text);
    assert.match(String(r.headers.location), new RegExp(`${base}/DISK_GB$`));
    assert.equal(r.body.resource_provider_generation, 1);
    assertPlacementError(
      await p.req("POST", base, { mv: "latest", body: { resource_class: "DISK_GB", total: 50 } }),
      409,
      "placement.concurrent_update",
    );
    assertPlacementError(
      await p.req("POST", base, {
        mv: "latest",
        body: { resource_class: "VCPU", total: 1, resource_provider_generation: 0 },
      }),
      409,
      "placement.concurrent_update",
    );
    assertPlacementError(
      await p.req("POST", base, { mv: "latest", body: { resource_class: "NOPE", total: 1 } }),
      400,
    );
    assertPlacementError(
      await p.req("PUT", `${base}/VCPU`, {
        mv: "latest",
        body: { resource_provider_generation: 1, total: 2 },
      }),
      400,
    );
  });

  test("in-use inventory cannot go: 409 placement.inventory.inuse; DELETE all from 1.5 (405 before)", async () => {
    const rp = await p.provider();
    const base = `/resource_providers/${rp.uuid}${INV}`;
    await p.inventory(rp.uuid, { VCPU: { total: 4 }, MEMORY_MB: { total: 1024 }, DISK_GB: { total: 10 } });
    const consumer = await p.allocate({ [rp.uuid]: { VCPU: 1 } });
    const cur = await p.ok("GET", base, 200);
    assertPlacementError(
      await p.req("PUT", base, {
        mv: "latest",
        body: {
          resource_provider_generation: cur.resource_provider_generation,
          inventories: { MEMORY_MB: { total: 1 } },
        },
      }),
      409,
      "placement.inventory.inuse",
    );
    assertPlacementError(
      await p.req("DELETE", `${base}/VCPU`, { mv: "latest" }),
      409,
      "placement.inventory.inuse",
    );
    await p.ok("DELETE", `${base}/DISK_GB`, 204);
    assertPlacementError(await p.req("DELETE", `${base}/DISK_GB`), 404);
    assertPlacementError(await p.req("DELETE", base, { mv: "1.4" }), 405);
    assertPlacementError(await p.req("DELETE", base, { mv: "1.5" }), 409);
    // Shrinking below what is used is allowed (Placement only warns).
    const gen = (await p.ok("GET", base, 200)).resource_provider_generation;
    await p.ok("PUT", `${base}/VCPU`, 200, {
      body: { resource_provider_generation: gen, total: 1, reserved: 1 },
      mv: "1.26",
    });
    await p.ok("DELETE", `/allocations/${consumer}`, 204);
    await p.ok("DELETE", base, 204, { mv: "1.5" });
    assert.deepEqual((await p.ok("GET", base, 200)).inventories, {});
  });

  test("provider usages list every inventoried class", async () => {
    const rp = await p.provider();
    await p.inventory(rp.uuid, { VCPU: { total: 4 }, MEMORY_MB: { total: 2048 } });
    await p.allocate({ [rp.uuid]: { VCPU: 2, MEMORY_MB: 512 } });
    await p.allocate({ [rp.uuid]: { VCPU: 1 } });
    const u = await p.ok("GET", `/resource_providers/${rp.uuid}/usages`, 200);
    assert.deepEqual(u.usages, { VCPU: 3, MEMORY_MB: 512 });
    assert.equal(typeof u.resource_provider_generation, "number");
    assertPlacementError(await p.req("GET", `/resource_providers/${randomUUID()}/usages`), 404);
  });
});

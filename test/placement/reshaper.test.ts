// POST /reshaper (1.30): move inventory from a compute node to a new child provider together with the allocations
// consuming it, atomically, with generation checks.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { assertPlacementError, bootPlacement, type PlacementCloud } from "./helpers.js";

let p: PlacementCloud;
before(async () => {
  p = await bootPlacement();
});
after(() => p.close());

describe("reshaper", () => {
  test("moves VGPU inventory and its allocation from the root to a child", async () => {
    const cn = await p.provider("reshape-cn");
    await p.inventory(cn.uuid, { VCPU: { total: 8 }, VGPU: { total: 4 } });
    const c = await p.allocate({ [cn.uuid]: { VCPU: 2, VGPU: 1 } });
    const gpu = await p.provider("reshape-gpu", { parent_provider_uuid: cn.uuid });
    const cnGen = (await p.ok("GET", `/resource_providers/${cn.uuid}`, 200)).generation;
    const consumerGen = (await p.ok("GET", `/allocations/${c}`, 200, { mv: "latest" })).consumer_generation;
    const body = (gen: number) => ({
      inventories: {
        [cn.uuid]: { resource_provider_generation: gen, inventories: { VCPU: { total: 8 } } },
        [gpu.uuid]: { resource_provider_generation: 0, inventories: { VGPU: { total: 4 } } },
      },
      allocations: {
        [c]: {
          allocations: { [cn.uuid]: { resources: { VCPU: 2 } }, [gpu.uuid]: { resources: { VGPU: 1 } } },
          project_id: "p1",
          user_id: "u1",
          consumer_generation: consumerGen,
          consumer_type: "INSTANCE",
        },
      },
    });
    assertPlacementError(await p.req("POST", "/reshaper", { mv: "1.29", body: body(cnGen) }), 404);
    assertPlacementError(
      await p.req("POST", "/reshaper", { mv: "latest", body: body(cnGen - 1) }),
      409,
      "placement.concurrent_update",
    );
    await p.ok("POST", "/reshaper", 204, { mv: "latest", body: body(cnGen) });
    const allocs = await p.ok("GET", `/allocations/${c}`, 200, { mv: "latest" });
    assert.deepEqual(allocs.allocations[cn.uuid].resources, { VCPU: 2 });
    assert.deepEqual(allocs.allocations[gpu.uuid].resources, { VGPU: 1 });
    assert.equal(allocs.consumer_generation, consumerGen + 1);
    assert.deepEqual(
      Object.keys((await p.ok("GET", `/resource_providers/${cn.uuid}/inventories`, 200)).inventories),
      ["VCPU"],
    );
    assert.deepEqual((await p.ok("GET", `/resource_providers/${gpu.uuid}/usages`, 200)).usages, { VGPU: 1 });
  });

  test("a reshape that would strand allocations is refused and changes nothing", async () => {
    const cn = await p.provider("reshape-bad");
    await p.inventory(cn.uuid, { VCPU: { total: 8 }, VGPU: { total: 4 } });
    const c = await p.allocate({ [cn.uuid]: { VGPU: 1 } });
    const gen = (await p.ok("GET", `/resource_providers/${cn.uuid}`, 200)).generation;
    const r = await p.req("POST", "/reshaper", {
      mv: "latest",
      body: {
        inventories: {
          [cn.uuid]: { resource_provider_generation: gen, inventories: { VCPU: { total: 8 } } },
        },
        allocations: {},
      },
    });
    assertPlacementError(r, 409, "placement.inventory.inuse");
    assert.equal((await p.ok("GET", `/resource_providers/${cn.uuid}`, 200)).generation, gen);
    assert.deepEqual((await p.ok("GET", `/allocations/${c}`, 200)).allocations[cn.uuid].resources, {
      VGPU: 1,
    });
    assertPlacementError(
      await p.req("POST", "/reshaper", {
        mv: "latest",
        body: {
          inventories: { [randomUUID()]: { resource_provider_generation: 0, inventories: {} } },
          allocations: {},
        },
      }),
      400,
      "placement.resource_provider.not_found",
    );
  });
});

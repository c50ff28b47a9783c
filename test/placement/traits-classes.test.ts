// Placement traits (standard and CUSTOM_), provider traits, resource classes (standard and CUSTOM_, PUT per
// microversion) and provider aggregates (with generations from 1.19).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { assertPlacementError, bootPlacement, type PlacementCloud } from "./helpers.js";

let p: PlacementCloud;
before(async () => {
  p = await bootPlacement();
});
after(() => p.close());

describe("traits", () => {
  test("standard os-traits names are seeded", async () => {
    const all = (await p.ok("GET", "/traits", 200, { mv: "1.6" })).traits as string[];
    assert.ok(all.length >= 100, `${all.length} traits`);
    for (const t of [
      "HW_CPU_X86_AVX2",
      "HW_CPU_X86_VMX",
      "COMPUTE_VOLUME_MULTI_ATTACH",
      "COMPUTE_STATUS_DISABLED",
      "STORAGE_DISK_SSD",
      "MISC_SHARES_VIA_AGGREGATE",
      "HW_GPU_API_VULKAN",
    ])
      assert.ok(all.includes(t), t);
    const x86 = (await p.ok("GET", "/traits?name=startswith:HW_CPU_X86_", 200, { mv: "1.6" })).traits;
    assert.ok(x86.length > 20 && x86.every((t: string) => t.startsWith("HW_CPU_X86_")));
    const some = (await p.ok("GET", "/traits?name=in:STORAGE_DISK_SSD,NOPE", 200, { mv: "1.6" })).traits;
    assert.deepEqual(some, ["STORAGE_DISK_SSD"]);
    assertPlacementError(await p.req("GET", "/traits?name=STORAGE", { mv: "1.6" }), 400);
    assertPlacementError(await p.req("GET", "/traits?associated=maybe", { mv: "1.6" }), 400);
    assertPlacementError(await p.req("GET", "/traits?bogus=1", { mv: "1.6" }), 400);
  });

  test("custom traits: PUT 201 then 204, GET 204/404, names checked, delete rules", async () => {
    const r = await p.req("PUT", "/traits/CUSTOM_GOLD", { mv: "1.6" });
    assert.equal(r.status, 201);
    assert.match(String(r.headers.location), /\/placement\/traits\/CUSTOM_GOLD$/);
    assert.equal((await p.req("PUT", "/traits/CUSTOM_GOLD", { mv: "1.6" })).status, 204);
    assert.equal((await p.req("GET", "/traits/CUSTOM_GOLD", { mv: "1.6" })).status, 204);
    assertPlacementError(await p.req("GET", "/traits/CUSTOM_NONE", { mv: "1.6" }), 404);
    assertPlacementError(await p.req("PUT", "/traits/GOLD", { mv: "1.6" }), 400);
    assertPlacementError(await p.req("PUT", "/traits/CUSTOM_lower", { mv: "1.6" }), 400);
    assertPlacementError(await p.req("DELETE", "/traits/STORAGE_DISK_SSD", { mv: "1.6" }), 400);
    const rp = await p.provider();
    await p.ok("PUT", `/resource_providers/${rp.uuid}/traits`, 200, {
      mv: "1.6",
      body: { traits: ["CUSTOM_GOLD"], resource_provider_generation: 0 },
    });
    assertPlacementError(await p.req("DELETE", "/traits/CUSTOM_GOLD", { mv: "1.6" }), 409);
    const assoc = (await p.ok("GET", "/traits?associated=true", 200, { mv: "1.6" })).traits;
    assert.deepEqual(assoc, ["CUSTOM_GOLD"]);
    await p.ok("DELETE", `/resource_providers/${rp.uuid}/traits`, 204, { mv: "1.6" });
    await p.ok("DELETE", "/traits/CUSTOM_GOLD", 204, { mv: "1.6" });
    assertPlacementError(await p.req("DELETE", "/traits/CUSTOM_GOLD", { mv: "1.6" }), 404);
  });

  test("provider traits replace the set, bump the generation only on change, reject unknown names", async () => {
    const rp = await p.provider();
    const base = `/resource_providers/${rp.uuid}/traits`;
    assert.deepEqual(await p.ok("GET", base, 200, { mv: "1.6" }), {
      traits: [],
      resource_provider_generation: 0,
    });
    const set = await p.ok("PUT", base, 200, {
      mv: "1.6",
      body: { traits: ["HW_CPU_X86_AVX2", "STORAGE_DISK_SSD"], resource_provider_generation: 0 },
    });
    assert.deepEqual(set, {
      traits: ["HW_CPU_X86_AVX2", "STORAGE_DISK_SSD"],
      resource_provider_generation: 1,
    });
    const same = await p.ok("PUT", base, 200, {
      mv: "1.6",
      body: { traits: ["STORAGE_DISK_SSD", "HW_CPU_X86_AVX2"], resource_provider_generation: 1 },
    });
    assert.equal(same.resource_provider_generation, 1);
    assertPlacementError(
      await p.req("PUT", base, {
        mv: "latest",
        body: { traits: ["CUSTOM_NOPE"], resource_provider_generation: 1 },
      }),
      400,
    );
    assertPlacementError(
      await p.req("PUT", base, { mv: "latest", body: { traits: [], resource_provider_generation: 0 } }),
      409,
      "placement.concurrent_update",
    );
    assertPlacementError(await p.req("GET", base, { mv: "1.5" }), 404);
    assertPlacementError(
      await p.req("GET", `/resource_providers/${randomUUID()}/traits`, { mv: "1.6" }),
      404,
    );
  });
});

describe("resource classes", () => {
  test("standard classes are listed with links", async () => {
    const list = (await p.ok("GET", "/resource_classes", 200, { mv: "1.2" })).resource_classes;
    const names = list.map((r: any) => r.name);
    for (const n of [
      "VCPU",
      "MEMORY_MB",
      "DISK_GB",
      "PCI_DEVICE",
      "SRIOV_NET_VF",
      "NUMA_CORE",
      "IPV4_ADDRESS",
      "VGPU",
      "PCPU",
    ])
      assert.ok(names.includes(n), n);
    assert.deepEqual(list[0], {
      name: "VCPU",
      links: [{ rel: "self", href: "/placement/resource_classes/VCPU" }],
    });
    assert.deepEqual(await p.ok("GET", "/resource_classes/DISK_GB", 200, { mv: "1.2" }), {
      name: "DISK_GB",
      links: [{ rel: "self", href: "/placement/resource_classes/DISK_GB" }],
    });
  });

  test("custom classes: POST, rename (1.2-1.6), PUT create-or-verify (1.7), delete rules", async () => {
    const r = await p.req("POST", "/resource_classes", { mv: "1.2", body: { name: "CUSTOM_FPGA_X" } });
    assert.equal(r.status, 201, r.text);
    assert.match(String(r.headers.location), /\/resource_classes\/CUSTOM_FPGA_X$/);
    assertPlacementError(
      await p.req("POST", "/resource_classes", { mv: "1.2", body: { name: "CUSTOM_FPGA_X" } }),
      409,
    );
    assertPlacementError(
      await p.req("POST", "/resource_classes", { mv: "1.2", body: { name: "FPGA_X" } }),
      400,
    );
    const renamed = await p.ok("PUT", "/resource_classes/CUSTOM_FPGA_X", 200, {
      mv: "1.6",
      body: { name: "CUSTOM_FPGA_Y" },
    });
    assert.equal(renamed.name, "CUSTOM_FPGA_Y");
    assertPlacementError(
      await p.req("PUT", "/resource_classes/VCPU", { mv: "1.6", body: { name: "CUSTOM_V" } }),
      400,
    );
    assert.equal((await p.req("PUT", "/resource_classes/CUSTOM_NEW", { mv: "1.7" })).status, 201);
    assert.equal((await p.req("PUT", "/resource_classes/CUSTOM_NEW", { mv: "1.7" })).status, 204);
    assertPlacementError(await p.req("PUT", "/resource_classes/VCPU", { mv: "1.7" }), 400);
    // In use by an inventory: 409; standard: 400.
    const rp = await p.provider();
    await p.inventory(rp.uuid, { CUSTOM_NEW: { total: 2 } });
    assertPlacementError(await p.req("DELETE", "/resource_classes/CUSTOM_NEW", { mv: "1.7" }), 409);
    assertPlacementError(await p.req("DELETE", "/resource_classes/VCPU", { mv: "1.7" }), 400);
    await p.ok("DELETE", "/resource_classes/CUSTOM_FPGA_Y", 204, { mv: "1.7" });
    assertPlacementError(await p.req("GET", "/resource_classes/CUSTOM_FPGA_Y", { mv: "1.7" }), 404);
    // A custom class works in inventories and candidates like a standard one.
    const ac = await p.ok("GET", "/allocation_candidates?resources=CUSTOM_NEW:1", 200, { mv: "latest" });
    assert.deepEqual(Object.keys(ac.provider_summaries), [rp.uuid]);
  });
});

describe("aggregates", () => {
  test("1.1 takes a list; 1.19 an object with the generation, which it checks and bumps", async () => {
    const rp = await p.provider();
    const base = `/resource_providers/${rp.uuid}/aggregates`;
    const a1 = randomUUID();
    const a2 = randomUUID();
    assertPlacementError(await p.req("GET", base), 404);
    assert.deepEqual(await p.ok("GET", base, 200, { mv: "1.1" }), { aggregates: [] });
    const set = await p.ok("PUT", base, 200, { mv: "1.1", body: [a1] });
    assert.deepEqual(set, { aggregates: [a1] });
    assert.equal(
      (await p.ok("GET", `/resource_providers/${rp.uuid}`, 200)).generation,
      0,
      "no bump before 1.19",
    );
    assertPlacementError(await p.req("PUT", base, { mv: "1.1", body: [a1, a1] }), 400);
    assertPlacementError(await p.req("PUT", base, { mv: "1.1", body: ["nope"] }), 400);
    assertPlacementError(await p.req("PUT", base, { mv: "1.19", body: [a1] }), 400);
    const got = await p.ok("GET", base, 200, { mv: "1.19" });
    assert.deepEqual(got, { aggregates: [a1], resource_provider_generation: 0 });
    const upd = await p.ok("PUT", base, 200, {
      mv: "1.19",
      body: { aggregates: [a1, a2], resource_provider_generation: 0 },
    });
    assert.deepEqual(upd.aggregates.sort(), [a1, a2].sort());
    assert.equal(upd.resource_provider_generation, 1);
    assertPlacementError(
      await p.req("PUT", base, { mv: "latest", body: { aggregates: [], resource_provider_generation: 0 } }),
      409,
      "placement.concurrent_update",
    );
  });
});

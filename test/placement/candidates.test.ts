// GET /allocation_candidates over flat providers (no trees, no sharing providers: the single-query path):
// capacity (used, reserved, allocation_ratio, unit constraints), the response per microversion, limit, required
// and forbidden traits, any-traits, member_of, in_tree, granular groups with group_policy, root_required, errors.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { assertPlacementError, bootPlacement, type PlacementCloud } from "./helpers.js";

let p: PlacementCloud;
let cn: any[] = [];
const agg = randomUUID();
before(async () => {
  p = await bootPlacement();
  // cn0: big; cn1: half used; cn2: small with reserved and overcommit; cn3: max_unit 2 on VCPU.
  cn = [];
  for (let i = 0; i < 4; i++) cn.push(await p.provider(`cand-cn${i}`));
  await p.inventory(cn[0].uuid, {
    VCPU: { total: 32 },
    MEMORY_MB: { total: 131072 },
    DISK_GB: { total: 2000 },
  });
  await p.inventory(cn[1].uuid, {
    VCPU: { total: 16 },
    MEMORY_MB: { total: 65536 },
    DISK_GB: { total: 1000 },
  });
  await p.inventory(cn[2].uuid, {
    VCPU: { total: 4, reserved: 2, allocation_ratio: 4.0 },
    MEMORY_MB: { total: 8192, reserved: 4096 },
  });
  await p.inventory(cn[3].uuid, { VCPU: { total: 64, max_unit: 2 }, MEMORY_MB: { total: 65536 } });
  await p.allocate({ [cn[1].uuid]: { VCPU: 12, MEMORY_MB: 60000 } });
  await p.ok("PUT", `/resource_providers/${cn[0].uuid}/traits`, 200, {
    mv: "latest",
    body: { traits: ["HW_CPU_X86_AVX2", "STORAGE_DISK_SSD"], resource_provider_generation: 1 },
  });
  await p.ok("PUT", `/resource_providers/${cn[1].uuid}/traits`, 200, {
    mv: "latest",
    body: { traits: ["HW_CPU_X86_AVX2"], resource_provider_generation: 2 },
  });
  await p.ok("PUT", `/resource_providers/${cn[2].uuid}/aggregates`, 200, {
    mv: "latest",
    body: { aggregates: [agg], resource_provider_generation: 1 },
  });
});
after(() => p.close());

const name = (uuid: string) => cn.findIndex((c) => c.uuid === uuid);
async function cands(query: string, mv = "latest") {
  return p.ok("GET", `/allocation_candidates?${query}`, 200, { mv });
}
async function who(query: string, mv = "latest"): Promise<number[]> {
  const r = await cands(query, mv);
  const ids = r.allocation_requests.map((a: any) =>
    Array.isArray(a.allocations)
      ? name(a.allocations[0].resource_provider.uuid)
      : name(Object.keys(a.allocations)[0]),
  );
  return ids.filter((i: number) => i >= 0).sort();
}

describe("capacity", () => {
  test("used, reserved, allocation_ratio, max_unit decide who can host", async () => {
    assert.deepEqual(await who("resources=VCPU:1"), [0, 1, 2, 3]);
    assert.deepEqual(await who("resources=VCPU:2,MEMORY_MB:4096"), [0, 1, 2, 3]);
    assert.deepEqual(await who("resources=VCPU:4"), [0, 1, 2], "cn1 has 16 - 12 left; cn3 max_unit 2");
    assert.deepEqual(await who("resources=VCPU:5"), [0, 2], "cn2: (4 - 2) * 4 = 8");
    assert.deepEqual(await who("resources=VCPU:9"), [0]);
    assert.deepEqual(
      await who("resources=MEMORY_MB:5000"),
      [0, 1, 3],
      "cn1 has 5536 left; cn2 8192 - 4096 reserved",
    );
    assert.deepEqual(await who("resources=MEMORY_MB:5600"), [0, 3]);
    assert.deepEqual(await who("resources=VCPU:1,MEMORY_MB:4097"), [0, 1, 3]);
    assert.deepEqual(await who("resources=VCPU:1,DISK_GB:1"), [0, 1]);
    assert.deepEqual(await who("resources=VCPU:33"), []);
    assert.deepEqual(await who("resources=VCPU:99999999999"), []);
  });
});

describe("response formats", () => {
  test("1.10: list allocations, summaries with requested classes only", async () => {
    const r = await cands("resources=VCPU:9", "1.10");
    assert.deepEqual(r.allocation_requests, [
      { allocations: [{ resource_provider: { uuid: cn[0].uuid }, resources: { VCPU: 9 } }] },
    ]);
    assert.deepEqual(r.provider_summaries, {
      [cn[0].uuid]: { resources: { VCPU: { capacity: 32, used: 0 } } },
    });
  });

  test("1.12 object allocations; 1.17 traits; 1.27 all classes; 1.29 tree uuids; 1.34 mappings", async () => {
    const q = "resources=VCPU:9";
    const v112 = await cands(q, "1.12");
    assert.deepEqual(v112.allocation_requests, [
      { allocations: { [cn[0].uuid]: { resources: { VCPU: 9 } } } },
    ]);
    const v117 = await cands(q, "1.17");
    assert.deepEqual(v117.provider_summaries[cn[0].uuid].traits, ["HW_CPU_X86_AVX2", "STORAGE_DISK_SSD"]);
    assert.deepEqual(Object.keys(v117.provider_summaries[cn[0].uuid].resources), ["VCPU"]);
    const v127 = await cands(q, "1.27");
    assert.deepEqual(Object.keys(v127.provider_summaries[cn[0].uuid].resources).sort(), [
      "DISK_GB",
      "MEMORY_MB",
      "VCPU",
    ]);
    assert.equal("root_provider_uuid" in v127.provider_summaries[cn[0].uuid], false);
    const v129 = await cands(q, "1.29");
    assert.equal(v129.provider_summaries[cn[0].uuid].root_provider_uuid, cn[0].uuid);
    assert.equal(v129.provider_summaries[cn[0].uuid].parent_provider_uuid, null);
    assert.equal("mappings" in v129.allocation_requests[0], false);
    const v134 = await cands(q, "1.34");
    assert.deepEqual(v134.allocation_requests[0].mappings, { "": [cn[0].uuid] });
    const s = (await cands("resources=VCPU:1", "1.34")).provider_summaries[cn[1].uuid];
    assert.deepEqual(s.resources.VCPU, { capacity: 16, used: 12 });
  });

  test("limit (1.16) caps requests and summaries", async () => {
    const r = await cands("resources=VCPU:1&limit=2", "1.16");
    assert.equal(r.allocation_requests.length, 2);
    assert.equal(Object.keys(r.provider_summaries).length, 2);
    assertPlacementError(
      await p.req("GET", "/allocation_candidates?resources=VCPU:1&limit=0", { mv: "1.16" }),
      400,
    );
    assertPlacementError(
      await p.req("GET", "/allocation_candidates?resources=VCPU:1&limit=x", { mv: "1.16" }),
      400,
    );
    assertPlacementError(
      await p.req("GET", "/allocation_candidates?resources=VCPU:1&limit=2", { mv: "1.15" }),
      400,
    );
  });
});

describe("traits and aggregates", () => {
  test("required (1.17), forbidden (1.22), any-of and repeated (1.39)", async () => {
    assert.deepEqual(await who("resources=VCPU:1&required=HW_CPU_X86_AVX2", "1.17"), [0, 1]);
    assert.deepEqual(await who("resources=VCPU:1&required=HW_CPU_X86_AVX2,STORAGE_DISK_SSD", "1.17"), [0]);
    assert.deepEqual(await who("resources=VCPU:1&required=!HW_CPU_X86_AVX2", "1.22"), [2, 3]);
    assert.deepEqual(await who("resources=VCPU:1&required=HW_CPU_X86_AVX2,!STORAGE_DISK_SSD", "1.22"), [1]);
    assertPlacementError(
      await p.req("GET", "/allocation_candidates?resources=VCPU:1&required=!HW_CPU_X86_AVX2", { mv: "1.21" }),
      400,
    );
    assert.deepEqual(
      await who("resources=VCPU:1&required=in:STORAGE_DISK_SSD,HW_CPU_X86_AVX2", "1.39"),
      [0, 1],
    );
    assert.deepEqual(
      await who(
        "resources=VCPU:1&required=in:STORAGE_DISK_SSD,HW_CPU_X86_AVX2&required=!STORAGE_DISK_SSD",
        "1.39",
      ),
      [1],
    );
    // Before 1.39 only the last `required` counts.
    assert.deepEqual(
      await who("resources=VCPU:1&required=STORAGE_DISK_SSD&required=HW_CPU_X86_AVX2", "1.38"),
      [0, 1],
    );
    assertPlacementError(
      await p.req("GET", "/allocation_candidates?resources=VCPU:1&required=CUSTOM_NOPE", { mv: "latest" }),
      400,
    );
    assertPlacementError(
      await p.req(
        "GET",
        "/allocation_candidates?resources=VCPU:1&required=HW_CPU_X86_AVX2,!HW_CPU_X86_AVX2",
        { mv: "latest" },
      ),
      400,
    );
  });

  test("member_of (1.21), in:, forbidden (1.32); root_required (1.35)", async () => {
    assert.deepEqual(await who(`resources=VCPU:1&member_of=${agg}`, "1.21"), [2]);
    assert.deepEqual(await who(`resources=VCPU:1&member_of=in:${agg},${randomUUID()}`, "1.21"), [2]);
    assert.deepEqual(await who(`resources=VCPU:1&member_of=${randomUUID()}`, "1.21"), []);
    assert.deepEqual(await who(`resources=VCPU:1&member_of=!${agg}`, "1.32"), [0, 1, 3]);
    assertPlacementError(
      await p.req("GET", `/allocation_candidates?resources=VCPU:1&member_of=${agg}`, { mv: "1.20" }),
      400,
    );
    assert.deepEqual(await who("resources=VCPU:1&root_required=STORAGE_DISK_SSD", "1.35"), [0]);
    assert.deepEqual(await who("resources=VCPU:1&root_required=!HW_CPU_X86_AVX2", "1.35"), [2, 3]);
    const dup = await p.req(
      "GET",
      "/allocation_candidates?resources=VCPU:1&root_required=A&root_required=B",
      { mv: "1.35" },
    );
    assertPlacementError(dup, 400, "placement.query.duplicate_key");
  });

  test("in_tree (1.31)", async () => {
    assert.deepEqual(await who(`resources=VCPU:1&in_tree=${cn[3].uuid}`, "1.31"), [3]);
    assert.deepEqual(await who(`resources=VCPU:1&in_tree=${randomUUID()}`, "1.31"), []);
    assertPlacementError(
      await p.req("GET", `/allocation_candidates?resources=VCPU:1&in_tree=${cn[3].uuid}`, { mv: "1.30" }),
      400,
    );
    assertPlacementError(
      await p.req("GET", "/allocation_candidates?resources=VCPU:1&in_tree=bad", { mv: "1.31" }),
      400,
    );
  });
});

describe("granular request groups (1.25)", () => {
  test("numbered groups each land on one provider; group_policy isolate keeps them apart", async () => {
    // Both groups on the same provider is allowed with none; isolate needs two different providers.
    const none = await cands("resources1=VCPU:9&resources2=VCPU:9&group_policy=none", "1.34");
    assert.deepEqual(
      none.allocation_requests.map((a: any) => a.allocations),
      [{ [cn[0].uuid]: { resources: { VCPU: 18 } } }],
    );
    assert.deepEqual(none.allocation_requests[0].mappings, { "1": [cn[0].uuid], "2": [cn[0].uuid] });
    const iso = await cands("resources1=VCPU:9&resources2=VCPU:9&group_policy=isolate", "1.34");
    assert.equal(
      iso.allocation_requests.length,
      0,
      "flat providers are separate trees: no request spans two",
    );
    const mixed = await cands("resources=MEMORY_MB:1024&resources1=VCPU:20&group_policy=none", "1.25");
    assert.deepEqual(
      mixed.allocation_requests.map((a: any) => Object.keys(a.allocations)),
      [[cn[0].uuid]],
    );
    assertPlacementError(
      await p.req("GET", "/allocation_candidates?resources1=VCPU:1&resources2=VCPU:1", { mv: "1.25" }),
      400,
    );
    assertPlacementError(await p.req("GET", "/allocation_candidates?resources1=VCPU:1", { mv: "1.24" }), 400);
    assertPlacementError(
      await p.req("GET", "/allocation_candidates?resources_A=VCPU:1", { mv: "1.32" }),
      400,
    );
    assert.deepEqual((await cands("resources_COMPUTE=VCPU:9", "1.34")).allocation_requests[0].mappings, {
      _COMPUTE: [cn[0].uuid],
    });
    assert.deepEqual(await who("resources1=VCPU:1&required1=STORAGE_DISK_SSD", "1.25"), [0]);
    assertPlacementError(
      await p.req("GET", "/allocation_candidates?resources=VCPU:1&required1=STORAGE_DISK_SSD", {
        mv: "1.25",
      }),
      400,
    );
  });
});

describe("bad requests", () => {
  test("resources is required before 1.25, malformed, or of an unknown class", async () => {
    const bad = async (q: string, mv = "latest", code?: string) =>
      assertPlacementError(await p.req("GET", `/allocation_candidates?${q}`, { mv }), 400, code);
    await bad("", "1.10");
    await bad("limit=1", "1.24");
    await bad("resources=VCPU:1&foo=bar", "latest");
    await bad("resources=VCPU:x");
    await bad("resources=VCPU:-1");
    await bad("resources=");
    await bad("resources=NOPE:1");
    await bad("", "latest", "placement.query.missing_value");
    await bad("group_policy=sometimes&resources=VCPU:1");
  });
});

// GET /allocation_candidates with provider trees and a sharing provider (the general path): requests spanning a
// compute node and its children (1.29; excluded before), traits collected over the providers used, granular groups
// with isolate/none, sharing storage via an aggregate, in_tree, root_required and same_subtree.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { bootPlacement, type PlacementCloud } from "./helpers.js";

let p: PlacementCloud;
const rp: Record<string, string> = {};
const byUuid = new Map<string, string>();
const agg = randomUUID();

async function make(name: string, parent?: string) {
  const r = await p.provider(name, parent ? { parent_provider_uuid: rp[parent] } : {});
  rp[name] = r.uuid;
  byUuid.set(r.uuid, name);
}
async function traits(name: string, list: string[]) {
  const g = (await p.ok("GET", `/resource_providers/${rp[name]}`, 200)).generation;
  await p.ok("PUT", `/resource_providers/${rp[name]}/traits`, 200, {
    mv: "latest",
    body: { traits: list, resource_provider_generation: g },
  });
}

before(async () => {
  p = await bootPlacement();
  await p.ok("PUT", "/traits/CUSTOM_PHYSNET_A", 201, { mv: "latest" });
  await p.ok("PUT", "/traits/CUSTOM_PHYSNET_B", 201, { mv: "latest" });
  // Tree A: cnA with two PFs (physnet A and B); shares storage with ss via agg.
  await make("cnA");
  await make("pf0", "cnA");
  await make("pf1", "cnA");
  // Tree B: cnB with one small PF on physnet A.
  await make("cnB");
  await make("pfB", "cnB");
  // A flat compute node with local disk, and a sharing storage provider.
  await make("cnC");
  await make("ss");
  for (const cn of ["cnA", "cnB", "cnC"])
    await p.inventory(rp[cn], {
      VCPU: { total: 8 },
      MEMORY_MB: { total: 8192 },
      ...(cn === "cnC" ? { DISK_GB: { total: 100 } } : {}),
    });
  await p.inventory(rp.pf0, { SRIOV_NET_VF: { total: 4 } });
  await p.inventory(rp.pf1, { SRIOV_NET_VF: { total: 4 } });
  await p.inventory(rp.pfB, { SRIOV_NET_VF: { total: 1 } });
  await p.inventory(rp.ss, { DISK_GB: { total: 1000 } });
  await traits("cnA", ["HW_CPU_X86_AVX2"]);
  await traits("pf0", ["CUSTOM_PHYSNET_A"]);
  await traits("pf1", ["CUSTOM_PHYSNET_B"]);
  await traits("pfB", ["CUSTOM_PHYSNET_A"]);
  await traits("ss", ["MISC_SHARES_VIA_AGGREGATE"]);
  for (const n of ["cnA", "ss"]) {
    const g = (await p.ok("GET", `/resource_providers/${rp[n]}`, 200)).generation;
    await p.ok("PUT", `/resource_providers/${rp[n]}/aggregates`, 200, {
      mv: "latest",
      body: { aggregates: [agg], resource_provider_generation: g },
    });
  }
});
after(() => p.close());

/** Each allocation request as sorted "provider:CLASS=amount" strings. */
async function reqs(query: string, mv = "latest"): Promise<string[][]> {
  const r = await p.ok("GET", `/allocation_candidates?${query}`, 200, { mv });
  return r.allocation_requests
    .map((a: any) =>
      Object.entries(a.allocations as Record<string, any>)
        .flatMap(([u, x]) => Object.entries(x.resources).map(([rc, n]) => `${byUuid.get(u)}:${rc}=${n}`))
        .sort(),
    )
    .sort((x: string[], y: string[]) => x.join().localeCompare(y.join()));
}

describe("nested providers", () => {
  test("from 1.29 a request spans the compute node and a child; before, such requests are dropped", async () => {
    assert.deepEqual(await reqs("resources=VCPU:1,SRIOV_NET_VF:1", "1.29"), [
      ["cnA:VCPU=1", "pf0:SRIOV_NET_VF=1"],
      ["cnA:VCPU=1", "pf1:SRIOV_NET_VF=1"],
      ["cnB:VCPU=1", "pfB:SRIOV_NET_VF=1"],
    ]);
    assert.deepEqual(await reqs("resources=VCPU:1,SRIOV_NET_VF:1", "1.28"), []);
    // Single-provider requests still work before 1.29 with trees around.
    assert.deepEqual(await reqs("resources=VCPU:1,MEMORY_MB:64", "1.28"), [
      ["cnA:MEMORY_MB=64", "cnA:VCPU=1"],
      ["cnB:MEMORY_MB=64", "cnB:VCPU=1"],
      ["cnC:MEMORY_MB=64", "cnC:VCPU=1"],
    ]);
  });

  test("summaries cover the whole tree with parent and root uuids", async () => {
    const r = await p.ok(
      "GET",
      "/allocation_candidates?resources=VCPU:1,SRIOV_NET_VF:1&required=CUSTOM_PHYSNET_B",
      200,
      {
        mv: "1.29",
      },
    );
    assert.equal(r.allocation_requests.length, 1);
    assert.deepEqual(
      Object.keys(r.provider_summaries)
        .map((u) => byUuid.get(u))
        .sort(),
      ["cnA", "pf0", "pf1"],
    );
    const pf1 = r.provider_summaries[rp.pf1];
    assert.equal(pf1.parent_provider_uuid, rp.cnA);
    assert.equal(pf1.root_provider_uuid, rp.cnA);
    assert.deepEqual(pf1.traits, ["CUSTOM_PHYSNET_B"]);
    assert.deepEqual(pf1.resources, { SRIOV_NET_VF: { capacity: 4, used: 0 } });
    assert.deepEqual(r.provider_summaries[rp.pf0].resources, { SRIOV_NET_VF: { capacity: 4, used: 0 } });
  });

  test("unnumbered traits are met by the providers used together; forbidden ones on none of them", async () => {
    assert.deepEqual(await reqs("resources=VCPU:1,SRIOV_NET_VF:1&required=CUSTOM_PHYSNET_B"), [
      ["cnA:VCPU=1", "pf1:SRIOV_NET_VF=1"],
    ]);
    assert.deepEqual(
      await reqs("resources=VCPU:1,SRIOV_NET_VF:1&required=HW_CPU_X86_AVX2,CUSTOM_PHYSNET_A"),
      [["cnA:VCPU=1", "pf0:SRIOV_NET_VF=1"]],
    );
    assert.deepEqual(await reqs("resources=VCPU:1,SRIOV_NET_VF:1&required=!CUSTOM_PHYSNET_A"), [
      ["cnA:VCPU=1", "pf1:SRIOV_NET_VF=1"],
    ]);
    // A trait only on a provider the request does not use does not count.
    assert.deepEqual(await reqs("resources=VCPU:1&required=CUSTOM_PHYSNET_A"), []);
  });

  test("granular groups: isolate puts each on its own provider; none lets them share", async () => {
    const q =
      "resources=VCPU:1&resources1=SRIOV_NET_VF:1&required1=CUSTOM_PHYSNET_A&resources2=SRIOV_NET_VF:1&required2=CUSTOM_PHYSNET_B&group_policy=isolate";
    const r = await p.ok("GET", `/allocation_candidates?${q}`, 200, { mv: "1.34" });
    assert.equal(r.allocation_requests.length, 1);
    assert.deepEqual(r.allocation_requests[0].mappings, { "": [rp.cnA], "1": [rp.pf0], "2": [rp.pf1] });
    const iso = await reqs("resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1&group_policy=isolate");
    assert.deepEqual(iso, [
      ["pf0:SRIOV_NET_VF=1", "pf1:SRIOV_NET_VF=1"],
      ["pf0:SRIOV_NET_VF=1", "pf1:SRIOV_NET_VF=1"],
    ]);
    const none = await reqs("resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1&group_policy=none");
    assert.deepEqual(none, [
      ["pf0:SRIOV_NET_VF=1", "pf1:SRIOV_NET_VF=1"],
      ["pf0:SRIOV_NET_VF=1", "pf1:SRIOV_NET_VF=1"],
      ["pf0:SRIOV_NET_VF=2"],
      ["pf1:SRIOV_NET_VF=2"],
    ]);
  });

  test("in_tree and root_required pick trees", async () => {
    assert.deepEqual(await reqs(`resources=VCPU:1,SRIOV_NET_VF:1&in_tree=${rp.pfB}`), [
      ["cnB:VCPU=1", "pfB:SRIOV_NET_VF=1"],
    ]);
    // in_tree names a tree (any provider of it), not a subtree.
    assert.deepEqual(await reqs(`resources=SRIOV_NET_VF:1&in_tree=${rp.pf1}`), [
      ["pf0:SRIOV_NET_VF=1"],
      ["pf1:SRIOV_NET_VF=1"],
    ]);
    assert.deepEqual(
      await reqs(`resources=VCPU:1&resources1=SRIOV_NET_VF:1&in_tree1=${rp.pfB}&group_policy=none`),
      [["cnB:VCPU=1", "pfB:SRIOV_NET_VF=1"]],
    );
    assert.deepEqual(await reqs("resources=VCPU:1,SRIOV_NET_VF:1&root_required=HW_CPU_X86_AVX2"), [
      ["cnA:VCPU=1", "pf0:SRIOV_NET_VF=1"],
      ["cnA:VCPU=1", "pf1:SRIOV_NET_VF=1"],
    ]);
    assert.deepEqual(await reqs("resources=VCPU:1,SRIOV_NET_VF:1&root_required=!HW_CPU_X86_AVX2"), [
      ["cnB:VCPU=1", "pfB:SRIOV_NET_VF=1"],
    ]);
  });

  test("same_subtree (1.36) with a resourceless group", async () => {
    const q =
      "resources_VF=SRIOV_NET_VF:1&required_NET=CUSTOM_PHYSNET_A&same_subtree=_VF,_NET&group_policy=none";
    const r = await p.ok("GET", `/allocation_candidates?${q}`, 200, { mv: "1.36" });
    const got = r.allocation_requests
      .map((a: any) => Object.keys(a.allocations).map((u) => byUuid.get(u)))
      .sort();
    assert.deepEqual(got, [["pf0"], ["pfB"]]);
    const bad = await p.req(
      "GET",
      "/allocation_candidates?resources_VF=SRIOV_NET_VF:1&required_NET=CUSTOM_PHYSNET_A",
      {
        mv: "1.36",
      },
    );
    assert.equal(bad.status, 400);
  });

  test("a sharing provider serves the trees in its aggregate", async () => {
    assert.deepEqual(await reqs("resources=VCPU:1,DISK_GB:10"), [
      ["cnA:VCPU=1", "ss:DISK_GB=10"],
      ["cnC:DISK_GB=10", "cnC:VCPU=1"],
    ]);
    const r = await p.ok("GET", "/allocation_candidates?resources=VCPU:1,DISK_GB:10", 200, { mv: "latest" });
    const names = Object.keys(r.provider_summaries)
      .map((u) => byUuid.get(u))
      .sort();
    assert.deepEqual(names, ["cnA", "cnC", "pf0", "pf1", "ss"]);
    assert.deepEqual(await reqs(`resources=VCPU:1,DISK_GB:10&member_of=${agg}`), [
      ["cnA:VCPU=1", "ss:DISK_GB=10"],
    ]);
    assert.deepEqual(await reqs(`resources=VCPU:1,DISK_GB:10&member_of=!${agg}`), [
      ["cnC:DISK_GB=10", "cnC:VCPU=1"],
    ]);
    // Granular disk from the sharing provider, anchored at cnA.
    assert.deepEqual(await reqs("resources=VCPU:1&resources1=DISK_GB:500&group_policy=none"), [
      ["cnA:VCPU=1", "ss:DISK_GB=500"],
    ]);
    // Allocating against the sharing provider uses it up for everyone.
    const c = await p.allocate({ [rp.cnA]: { VCPU: 1 }, [rp.ss]: { DISK_GB: 995 } });
    assert.deepEqual(await reqs("resources=VCPU:1,DISK_GB:10"), [["cnC:DISK_GB=10", "cnC:VCPU=1"]]);
    await p.ok("DELETE", `/allocations/${c}`, 204);
  });

  test("capacity is checked over the whole request: two groups cannot overfill one provider", async () => {
    // pfB has 1 VF: two granular VF groups there (none) are not a candidate.
    const r = await reqs(
      `resources1=SRIOV_NET_VF:1&in_tree1=${rp.cnB}&resources2=SRIOV_NET_VF:1&in_tree2=${rp.cnB}&group_policy=none`,
    );
    assert.deepEqual(r, []);
    assert.deepEqual(await reqs(`resources=SRIOV_NET_VF:4&in_tree=${rp.cnA}`), [
      ["pf0:SRIOV_NET_VF=4"],
      ["pf1:SRIOV_NET_VF=4"],
    ]);
    assert.deepEqual(await reqs(`resources=SRIOV_NET_VF:5&in_tree=${rp.cnA}`), []);
  });

  test("limit applies across trees", async () => {
    const r = await p.ok("GET", "/allocation_candidates?resources=VCPU:1,SRIOV_NET_VF:1&limit=1", 200, {
      mv: "latest",
    });
    assert.equal(r.allocation_requests.length, 1);
    const used = Object.keys(r.allocation_requests[0].allocations);
    const root = r.provider_summaries[used[0]].root_provider_uuid;
    assert.ok(Object.values(r.provider_summaries).every((s: any) => s.root_provider_uuid === root));
  });
});

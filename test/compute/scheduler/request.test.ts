// Unit tests of the placement query built from a flavor and an image, the extra-spec operators and the
// plain-words explanation helpers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pluralise, shortfall, summarise } from "../../../src/compute/scheduler/explain.js";
import { amountInWords, candidatesQuery, placementRequest } from "../../../src/compute/scheduler/request.js";
import { matchesSpec } from "../../../src/compute/scheduler/spec-ops.js";
import { flavor } from "./fixtures.js";

const image = (properties: Record<string, string> = {}) => ({ id: "i", min_ram: 0, min_disk: 0, properties });
const query = (f: ReturnType<typeof flavor>, props?: Record<string, string>, inTree?: string) =>
  Object.fromEntries(candidatesQuery(placementRequest(f, image(props)), 50, inTree));

test("the flavor's sizes become resources; swap rounds up to whole GB; zero amounts are left out", () => {
  assert.deepEqual(query(flavor({ swap: 1500, ephemeral_gb: 5 })), {
    resources: "VCPU:2,MEMORY_MB:2048,DISK_GB:27",
    limit: "50",
  });
  assert.deepEqual(query(flavor({ root_gb: 0 })), { resources: "VCPU:2,MEMORY_MB:2048", limit: "50" });
});

test("resources: overrides, custom classes, traits from the flavor and the image, in_tree", () => {
  const f = flavor({
    extra_specs: {
      "resources:VCPU": "0",
      "resources:PCPU": "2",
      "resources:CUSTOM_GPU": "1",
      "trait:HW_CPU_X86_AVX2": "required",
      "trait:CUSTOM_SLOW": "forbidden",
      "hw:cpu_policy": "dedicated",
    },
  });
  const q = query(f, { "trait:COMPUTE_STATUS_X": "required", "trait:BAD": "forbidden" }, "rp-1");
  assert.deepEqual(q, {
    resources: "MEMORY_MB:2048,DISK_GB:20,CUSTOM_GPU:1,PCPU:2",
    required: "HW_CPU_X86_AVX2,COMPUTE_STATUS_X,!CUSTOM_SLOW",
    in_tree: "rp-1",
    limit: "50",
  });
  const preq = placementRequest(f, image());
  assert.deepEqual(preq.totals, { MEMORY_MB: 2048, DISK_GB: 20, PCPU: 2, CUSTOM_GPU: 1 });
  assert.deepEqual(preq.traits, ["HW_CPU_X86_AVX2", "!CUSTOM_SLOW"]);
});

test("granular groups get suffixed keys and a group policy", () => {
  const f = flavor({
    extra_specs: {
      "resources1:CUSTOM_NIC": "1",
      "trait1:CUSTOM_PHYSNET_A": "required",
      "resources2:CUSTOM_NIC": "1",
    },
  });
  const q = query(f);
  assert.equal(q.resources1, "CUSTOM_NIC:1");
  assert.equal(q.required1, "CUSTOM_PHYSNET_A");
  assert.equal(q.resources2, "CUSTOM_NIC:1");
  assert.equal(q.group_policy, "none");
  assert.deepEqual(placementRequest(f, image()).totals.CUSTOM_NIC, 2);
  const isolate = query(flavor({ extra_specs: { ...f.extra_specs, group_policy: "isolate" } }));
  assert.equal(isolate.group_policy, "isolate");
});

test("matchesSpec: operators", () => {
  assert.ok(matchesSpec("QEMU", "QEMU"));
  assert.ok(!matchesSpec("QEMU", "qemu"));
  assert.ok(matchesSpec(8, "= 4"));
  assert.ok(!matchesSpec(2, "= 4"));
  assert.ok(matchesSpec("4", "== 4.0"));
  assert.ok(matchesSpec(5, "!= 4"));
  assert.ok(matchesSpec("b", "s> a"));
  assert.ok(matchesSpec("abc", "s!= abd"));
  assert.ok(matchesSpec("Haswell-noTSX", "<in> Haswell"));
  assert.ok(matchesSpec(["a", "b"], "<in> b"));
  assert.ok(matchesSpec(["a", "b", "c"], "<all-in> c a"));
  assert.ok(!matchesSpec(["a"], "<all-in> a z"));
  assert.ok(matchesSpec("kvm", "<or> qemu <or> kvm"));
  assert.ok(!matchesSpec("xen", "<or> qemu <or> kvm"));
  assert.ok(!matchesSpec(undefined, "x"));
  assert.ok(!matchesSpec("abc", "= 4"));
});

test("explanations: plural forms, grouping by count, the empty cloud", () => {
  assert.equal(pluralise("was disabled"), "were disabled");
  assert.equal(pluralise("lacked 2 VCPU"), "lacked 2 VCPU");
  assert.equal(
    summarise(12, [...Array(3).fill("was disabled"), ...Array(9).fill("lacked 4096 MB RAM")]),
    "0 of 12 hosts: 9 lacked 4096 MB RAM, 3 were disabled",
  );
  assert.equal(
    summarise(3, ["lacked 8 VCPU", "was not in availability zone 'az1'", "lacked 8 VCPU"]),
    "0 of 3 hosts: 2 lacked 8 VCPU, 1 was not in availability zone 'az1'",
  );
  assert.equal(summarise(1, ["was down"]), "0 of 1 host: 1 was down");
  assert.equal(
    summarise(0, []),
    "0 of 0 hosts: no compute host is registered (start an agent: stratus agent compute)",
  );
  assert.equal(amountInWords("DISK_GB", 20), "20 GB disk");
});

test("shortfall: capacity after reserved and allocation ratio, missing inventory, max_unit", () => {
  const usage = {
    inventories: {
      VCPU: { total: 4, reserved: 0, allocation_ratio: 4, max_unit: 4 },
      MEMORY_MB: { total: 8192, reserved: 512, allocation_ratio: 1, max_unit: 8192 },
    },
    usages: { VCPU: 10, MEMORY_MB: 4096 },
  };
  assert.equal(shortfall(usage, { VCPU: 2, MEMORY_MB: 2048 }), null);
  assert.equal(shortfall(usage, { VCPU: 8, MEMORY_MB: 1024 }), "lacked 8 VCPU");
  assert.equal(shortfall(usage, { VCPU: 1, MEMORY_MB: 4096 }), "lacked 4096 MB RAM");
  assert.equal(shortfall(usage, { VCPU: 1, DISK_GB: 1 }), "had no DISK_GB inventory");
  const idle = { ...usage, usages: {} };
  assert.equal(shortfall(idle, { VCPU: 6 }), "allowed at most 4 VCPU per server");
});

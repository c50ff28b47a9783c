// Unit tests of every host filter over hand-built host states.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AggregateInstanceExtraSpecsFilter,
  AggregateMultiTenancyIsolation,
  AvailabilityZoneFilter,
  ComputeCapabilitiesFilter,
  ComputeFilter,
  defaultFilters,
  DifferentHostFilter,
  firstFailure,
  groupMembersOn,
  ImagePropertiesFilter,
  SameHostFilter,
  ServerGroupAffinityFilter,
  ServerGroupAntiAffinityFilter,
  versionToInt,
} from "../../../src/compute/scheduler/filters.js";
import { flavor, hostState, request } from "./fixtures.js";

const agg = (metadata: Record<string, string>, name = "a1") => ({ uuid: `${name}-uuid`, name, metadata });

test("AvailabilityZoneFilter: any host without a requested zone, else only hosts of that zone", () => {
  const h = hostState({ availabilityZone: "az1" });
  assert.equal(AvailabilityZoneFilter.check(h, request()), true);
  assert.equal(AvailabilityZoneFilter.check(h, request({}, { availabilityZone: "az1" })), true);
  assert.equal(
    AvailabilityZoneFilter.check(h, request({}, { availabilityZone: "az2" })),
    "was not in availability zone 'az2'",
  );
});

test("ComputeFilter: disabled, then down", () => {
  assert.equal(ComputeFilter.check(hostState(), request()), true);
  assert.equal(ComputeFilter.check(hostState({ enabled: false, up: false }), request()), "was disabled");
  assert.equal(ComputeFilter.check(hostState({ up: false }), request()), "was down");
});

test("ImagePropertiesFilter: architecture with aliases, hypervisor type, requested version", () => {
  const h = hostState();
  const props = (properties: Record<string, string>) =>
    request({}, { image: { id: "i", min_ram: 0, min_disk: 0, properties } });
  assert.equal(ImagePropertiesFilter.check(h, props({})), true);
  assert.equal(ImagePropertiesFilter.check(h, props({ hw_architecture: "x86_64" })), true);
  assert.equal(ImagePropertiesFilter.check(h, props({ architecture: "amd64" })), true);
  assert.equal(
    ImagePropertiesFilter.check(h, props({ hw_architecture: "aarch64" })),
    "did not support the image's architecture 'aarch64'",
  );
  assert.equal(
    ImagePropertiesFilter.check(
      hostState({ cpuInfo: { ...h.cpuInfo, arch: "aarch64" } }),
      props({ architecture: "arm64" }),
    ),
    true,
  );
  assert.equal(ImagePropertiesFilter.check(h, props({ img_hv_type: "qemu" })), true);
  assert.equal(
    ImagePropertiesFilter.check(hostState({ hypervisorType: "kvm" }), props({ img_hv_type: "qemu" })),
    true,
  );
  assert.equal(
    ImagePropertiesFilter.check(h, props({ hypervisor_type: "xen" })),
    "did not run the image's hypervisor type 'xen'",
  );
  assert.equal(ImagePropertiesFilter.check(h, props({ hw_vm_mode: "xen" })), true, "hw_vm_mode is ignored");
  assert.equal(ImagePropertiesFilter.check(h, props({ img_hv_requested_version: ">=8.0" })), true);
  assert.equal(ImagePropertiesFilter.check(h, props({ img_hv_requested_version: "8.2.0" })), true);
  assert.equal(ImagePropertiesFilter.check(h, props({ img_hv_requested_version: "< 9" })), true);
  assert.equal(
    ImagePropertiesFilter.check(h, props({ img_hv_requested_version: ">= 9.1" })),
    "did not have the hypervisor version the image asks for (>= 9.1)",
  );
  assert.equal(versionToInt("6.2"), 6_002_000);
  assert.equal(versionToInt("6002000"), 6_002_000);
  assert.equal(versionToInt("abc"), null);
});

test("ServerGroupAffinityFilter: free before the first member lands, then only the members' host", () => {
  const group = (hosts: string[], policy = "affinity") => ({ uuid: "g", policy, rules: {}, hosts });
  assert.equal(ServerGroupAffinityFilter.check(hostState(), request()), true);
  assert.equal(ServerGroupAffinityFilter.check(hostState(), request({ group: group([]) })), true);
  assert.equal(
    ServerGroupAffinityFilter.check(hostState({ host: "h1" }), request({ group: group(["h1"]) })),
    true,
  );
  assert.equal(
    ServerGroupAffinityFilter.check(hostState({ host: "h2" }), request({ group: group(["h1"]) })),
    "did not hold the other members of the affinity group",
  );
  assert.equal(
    ServerGroupAffinityFilter.check(
      hostState({ host: "h2" }),
      request({ group: group(["h1"], "soft-affinity") }),
    ),
    true,
  );
});

test("ServerGroupAntiAffinityFilter: one member per host by default, max_server_per_host otherwise", () => {
  const g = (hosts: string[], rules = {}, members?: string[]) => ({
    uuid: "g",
    policy: "anti-affinity",
    rules,
    hosts,
    ...(members ? { members } : {}),
  });
  const h1 = hostState({ host: "h1", instances: new Set(["m1", "m2", "i-new"]) });
  assert.equal(ServerGroupAntiAffinityFilter.check(h1, request({ group: g([]) })), true);
  assert.equal(
    ServerGroupAntiAffinityFilter.check(hostState({ host: "h2" }), request({ group: g(["h1"]) })),
    true,
  );
  assert.equal(
    ServerGroupAntiAffinityFilter.check(h1, request({ group: g(["h1"]) })),
    "already held as many members of the anti-affinity group as allowed (1)",
  );
  assert.equal(
    ServerGroupAntiAffinityFilter.check(h1, request({ group: g(["h1"], { max_server_per_host: 2 }) })),
    true,
  );
  // Counted from the members' instances on the host (the instance itself does not count).
  const members = ["m1", "m2", "i-new"];
  assert.equal(groupMembersOn(h1, request({ group: g(["h1"], {}, members) })), 2);
  assert.notEqual(
    ServerGroupAntiAffinityFilter.check(
      h1,
      request({ group: g(["h1"], { max_server_per_host: 2 }, members) }),
    ),
    true,
  );
  assert.equal(
    ServerGroupAntiAffinityFilter.check(
      h1,
      request({ group: g(["h1"], { max_server_per_host: 3 }, members) }),
    ),
    true,
  );
  assert.equal(
    ServerGroupAntiAffinityFilter.check(h1, request({ group: { ...g(["h1"]), policy: "affinity" } })),
    true,
  );
});

test("SameHostFilter and DifferentHostFilter: a uuid or a list of uuids", () => {
  const h = hostState({ instances: new Set(["a", "b"]) });
  const hints = (hints: Record<string, unknown>) => request({}, { hints });
  assert.equal(SameHostFilter.check(h, hints({})), true);
  assert.equal(SameHostFilter.check(h, hints({ same_host: "a" })), true);
  assert.equal(SameHostFilter.check(h, hints({ same_host: ["x", "b"] })), true);
  assert.equal(
    SameHostFilter.check(h, hints({ same_host: ["x"] })),
    "did not run any instance named in same_host",
  );
  assert.equal(DifferentHostFilter.check(h, hints({})), true);
  assert.equal(DifferentHostFilter.check(h, hints({ different_host: "x" })), true);
  assert.equal(
    DifferentHostFilter.check(h, hints({ different_host: ["x", "a"] })),
    "ran an instance named in different_host",
  );
});

test("AggregateMultiTenancyIsolation: filter_tenant_id keys reserve the host for their projects", () => {
  assert.equal(
    AggregateMultiTenancyIsolation.check(hostState({ aggregates: [agg({ x: "y" })] }), request()),
    true,
  );
  const h = hostState({
    aggregates: [agg({ filter_tenant_id: "p2,p3" }), agg({ filter_tenant_id_2: "p4" }, "a2")],
  });
  assert.equal(AggregateMultiTenancyIsolation.check(h, request({ projectId: "p3" })), true);
  assert.equal(AggregateMultiTenancyIsolation.check(h, request({ projectId: "p4" })), true);
  assert.equal(
    AggregateMultiTenancyIsolation.check(h, request({ projectId: "p1" })),
    "was reserved for other projects",
  );
});

test("AggregateInstanceExtraSpecsFilter: scoped extra specs must match an aggregate's metadata", () => {
  const withSpecs = (extra_specs: Record<string, string>) => request({ flavor: flavor({ extra_specs }) });
  const h = hostState({ aggregates: [agg({ ssd: "true", gen: "3" }), agg({ ssd: "false,maybe" }, "a2")] });
  assert.equal(AggregateInstanceExtraSpecsFilter.check(h, withSpecs({ "hw:cpu_policy": "dedicated" })), true);
  assert.equal(
    AggregateInstanceExtraSpecsFilter.check(h, withSpecs({ "aggregate_instance_extra_specs:ssd": "true" })),
    true,
  );
  assert.equal(
    AggregateInstanceExtraSpecsFilter.check(h, withSpecs({ "aggregate_instance_extra_specs:ssd": "maybe" })),
    true,
  );
  assert.equal(
    AggregateInstanceExtraSpecsFilter.check(h, withSpecs({ "aggregate_instance_extra_specs:gen": ">= 2" })),
    true,
  );
  assert.equal(
    AggregateInstanceExtraSpecsFilter.check(h, withSpecs({ "aggregate_instance_extra_specs:gpu": "true" })),
    "was in no aggregate with gpu matching 'true'",
  );
  assert.equal(
    AggregateInstanceExtraSpecsFilter.check(
      hostState(),
      withSpecs({ "aggregate_instance_extra_specs:ssd": "true" }),
    ),
    "was in no aggregate with ssd matching 'true'",
  );
});

test("ComputeCapabilitiesFilter: capabilities:KEY with the comparison operators", () => {
  const h = hostState();
  const caps = (extra_specs: Record<string, string>) =>
    ComputeCapabilitiesFilter.check(h, request({ flavor: flavor({ extra_specs }) }));
  assert.equal(caps({}), true);
  assert.equal(caps({ "capabilities:hypervisor_type": "QEMU" }), true);
  assert.equal(caps({ "capabilities:hypervisor_type": "s== QEMU" }), true);
  assert.equal(caps({ "capabilities:cpu_info:arch": "<or> aarch64 <or> x86_64" }), true);
  assert.equal(caps({ "capabilities:cpu_info:features": "<in> avx2" }), true);
  assert.equal(caps({ "capabilities:cpu_info:features": "<all-in> avx2 vmx" }), true);
  assert.equal(caps({ "capabilities:hypervisor_version": ">= 8000000" }), true);
  assert.equal(caps({ "capabilities:vcpus_total": "= 8" }), true);
  assert.equal(caps({ "capabilities:free_ram_mb": "<= 40000" }), true);
  assert.equal(caps({ "capabilities:cpu_info:model": "<in> Has" }), true);
  assert.equal(
    caps({ "capabilities:hypervisor_type": "s== xen" }),
    "had no capability hypervisor_type matching 's== xen'",
  );
  assert.equal(caps({ "capabilities:vcpus_total": "= 32" }), "had no capability vcpus_total matching '= 32'");
  assert.equal(caps({ "capabilities:nonexistent": "1" }), "had no capability nonexistent matching '1'");
});

test("firstFailure reports the first failing filter of the default chain", () => {
  const req = request({}, { availabilityZone: "az9" });
  assert.equal(firstFailure(defaultFilters(), hostState({ enabled: false }), req), "was disabled");
  assert.equal(firstFailure(defaultFilters(), hostState(), req), "was not in availability zone 'az9'");
  assert.equal(firstFailure(defaultFilters(), hostState(), request()), null);
});

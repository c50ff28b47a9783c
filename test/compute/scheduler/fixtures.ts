// Hand-built host states, flavors and schedule requests for the scheduler's unit tests.
import { loadConfig, type Config } from "../../../src/shared/config.js";
import type { InstanceFlavor } from "../../../src/compute/instances/store.js";
import type { HostState, ScheduleRequest } from "../../../src/compute/scheduler/types.js";

/** A host with 16 VCPU, 32 GiB RAM and 500 GB disk, all free, enabled and up, in zone "nova". */
export function hostState(over: Partial<HostState> = {}): HostState {
  const host = over.host ?? "h1";
  return {
    host,
    node: host,
    nodeUuid: `00000000-0000-4000-8000-${host.padStart(12, "0").slice(-12)}`,
    enabled: true,
    up: true,
    availabilityZone: "nova",
    aggregates: [],
    vcpusTotal: 16,
    vcpusUsed: 0,
    memoryMbTotal: 32768,
    memoryMbUsed: 0,
    diskGbTotal: 500,
    diskGbUsed: 0,
    hypervisorType: "QEMU",
    hypervisorVersion: 8_002_000,
    cpuInfo: { arch: "x86_64", model: "Haswell", vendor: "Intel", features: ["vmx", "avx2", "sse4.2"] },
    instances: new Set(),
    ...over,
  };
}

/** A flavor of 2 VCPU, 2048 MB RAM and a 20 GB root disk. */
export function flavor(over: Partial<InstanceFlavor> = {}): InstanceFlavor {
  return {
    flavorid: "f1",
    name: "m1.small",
    memory_mb: 2048,
    vcpus: 2,
    root_gb: 20,
    ephemeral_gb: 0,
    swap: 0,
    rxtx_factor: 1,
    is_public: true,
    description: null,
    extra_specs: {},
    ...over,
  };
}

/** A request for instance "i-new" of project "p1" with the flavor above and an image without properties. */
export function request(
  over: Partial<ScheduleRequest> = {},
  specOver: Partial<ScheduleRequest["spec"]> = {},
) {
  const req: ScheduleRequest = {
    instanceUuid: "i-new",
    consumer: "i-new",
    projectId: "p1",
    userId: "u1",
    flavor: flavor(),
    spec: {
      image: { id: "img", min_ram: 0, min_disk: 0, properties: {} },
      hints: {},
      networks: "none",
      ...specOver,
    },
    alternates: 0,
    ...over,
  };
  return req;
}

/** Default configuration with scheduler multipliers overridden. */
export function config(scheduler: Partial<Config["compute"]["scheduler"]> = {}): Config {
  const cfg = loadConfig({ dataDir: "/nonexistent-stratus-test" } as Partial<Config>, {});
  Object.assign(cfg.compute.scheduler, scheduler);
  return cfg;
}

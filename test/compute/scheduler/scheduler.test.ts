// The scheduler against a real cloud: placement candidates, claims, spreading, requested and ignored hosts,
// disabled and down services, races for the last room on a host, and the plain-words explanations.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, beforeEach, test } from "node:test";
import { PlacementClient, type Candidates } from "../../../src/compute/placement-client.js";
import { NoValidHost } from "../../../src/compute/scheduler/scheduler.js";
import type { ScheduleRequest } from "../../../src/compute/scheduler/types.js";
import { injectClient } from "../../../src/shared/client/service-client.js";
import { flavor, request } from "./fixtures.js";
import { bootHarness, type Harness } from "./harness.js";

let h: Harness;
before(async () => {
  h = await bootHarness();
});
after(() => h.close());
beforeEach(() => h.reset());

/** A request for a new server (fresh consumer) with the 2 VCPU / 2048 MB / 20 GB flavor unless overridden. */
function req(
  over: Partial<ScheduleRequest> = {},
  spec: Partial<ScheduleRequest["spec"]> = {},
): ScheduleRequest {
  const uuid = randomUUID();
  return request({ instanceUuid: uuid, consumer: uuid, ...over }, spec);
}

/** The explanation NoValidHost carries for `r`. */
async function noValidHost(r: ScheduleRequest, scheduler = h.scheduler()): Promise<string> {
  const e = await scheduler.select(r).then(
    (s) => assert.fail(`expected NoValidHost, got ${s.choice.host}`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof NoValidHost, String(e));
  assert.ok(e.message.startsWith("No valid host was found. "));
  assert.equal(e.message, `No valid host was found. ${e.explanation}`);
  return e.explanation;
}

test("select claims the chosen host's allocation and hands back alternates on other hosts", async () => {
  const nodes = { h1: await h.addHost("h1"), h2: await h.addHost("h2"), h3: await h.addHost("h3") };
  const r = req({ alternates: 2 });
  const sel = await h.scheduler().select(r);
  assert.equal(sel.choice.host, "h1", "equal hosts: the tie goes to the first name");
  assert.equal(sel.choice.node, "h1");
  assert.deepEqual(sel.choice.allocations, {
    [nodes.h1]: { resources: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20 } },
  });
  assert.deepEqual(await h.allocations(r.consumer), sel.choice.allocations);
  assert.deepEqual(
    sel.alternates.map((a) => a.host),
    ["h2", "h3"],
  );
  assert.deepEqual(sel.alternates[0].allocations, {
    [nodes.h2]: { resources: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20 } },
  });
  assert.deepEqual(await h.allocations(randomUUID()), {}, "alternates are not claimed");
  const one = await h.scheduler().select(req({ alternates: 1 }));
  assert.equal(one.alternates.length, 1);
});

test("servers spread over hosts by free RAM", async () => {
  for (const n of ["h1", "h2", "h3"]) await h.addHost(n);
  const hosts = [];
  for (let i = 0; i < 3; i++) hosts.push((await h.scheduler().select(req())).choice.host);
  assert.deepEqual(hosts.sort(), ["h1", "h2", "h3"]);
});

test("a second claim for a consumer replaces its first: one allocation, on one host (issue 8 item 3)", async () => {
  await h.addHost("h1");
  const n2 = await h.addHost("h2");
  const r = req({ requestedHost: "h1" });
  await h.scheduler().select(r);
  const sel = await h.scheduler().select({ ...r, requestedHost: undefined, ignoreHosts: ["h1"] });
  assert.equal(sel.choice.host, "h2");
  const allocs = await h.allocations(r.consumer);
  assert.deepEqual(Object.keys(allocs), [n2]);
});

test("requestedHost restricts the choice; ignoreHosts skips hosts", async () => {
  for (const n of ["h1", "h2", "h3"]) await h.addHost(n);
  assert.equal((await h.scheduler().select(req({ requestedHost: "h2", alternates: 2 }))).choice.host, "h2");
  const sel = await h.scheduler().select(req({ ignoreHosts: ["h1", "h2"], alternates: 2 }));
  assert.equal(sel.choice.host, "h3");
  assert.deepEqual(sel.alternates, []);
  assert.equal(
    await noValidHost(req({ requestedHost: "nope" })),
    "0 of 3 hosts: 3 were not the requested host 'nope'",
  );
  assert.equal(
    await noValidHost(req({ requestedHost: "h1", ignoreHosts: ["h1"] })),
    "0 of 3 hosts: 2 were not the requested host 'h1', 1 was excluded by the request (a source host or one already tried)",
  );
});

test("disabled, down and forced-down services are skipped and explained", async () => {
  await h.addHost("h1", { disabled: true });
  await h.addHost("h2", { heartbeatAge: 3600 });
  await h.addHost("h3", { forcedDown: true });
  assert.equal(await noValidHost(req()), "0 of 3 hosts: 2 were down, 1 was disabled");
  await h.addHost("h4");
  assert.equal((await h.scheduler().select(req())).choice.host, "h4");
});

test("explanations count every host and say which resource was missing", async () => {
  await h.addHost("small1", { memoryMb: 2048 });
  await h.addHost("small2", { memoryMb: 1024 });
  await h.addHost("off", { disabled: true, memoryMb: 65536 });
  await h.addHost("cpu", { vcpus: 2, memoryMb: 65536 });
  const big = req({ flavor: flavor({ memory_mb: 4096, vcpus: 4 }) });
  assert.equal(await noValidHost(big), "0 of 4 hosts: 2 lacked 4096 MB RAM, 1 lacked 4 VCPU, 1 was disabled");
});

test("availability zones come from aggregate metadata, else the default zone", async () => {
  await h.addHost("h1");
  await h.addHost("h2");
  await h.addHost("h3", { az: "az1" });
  assert.equal((await h.scheduler().select(req({}, { availabilityZone: "az1" }))).choice.host, "h3");
  assert.equal((await h.scheduler().select(req({}, { availabilityZone: "nova" }))).choice.host, "h1");
  assert.equal(
    await noValidHost(req({}, { availabilityZone: "az2" })),
    "0 of 3 hosts: 3 were not in availability zone 'az2'",
  );
});

test("hosts that have not reported and an empty cloud are explained", async () => {
  assert.equal(
    await noValidHost(req()),
    "0 of 0 hosts: no compute host is registered (start an agent: stratus agent compute)",
  );
  await h.core.db
    .insertInto("compute_service")
    .values({ uuid: randomUUID(), host: "new", binary: "nova-compute", created_at: new Date().toISOString() })
    .execute();
  assert.equal(await noValidHost(req()), "0 of 1 host: 1 had not reported resources yet");
});

/** A placement client whose candidates() waits until `n` callers have their candidates (forces a race). */
class BarrierPlacement extends PlacementClient {
  private waiting: Array<() => void> = [];
  constructor(private readonly n: number) {
    super(
      injectClient(
        () => h.cloud.app,
        "/placement",
        async () => h.token,
      ),
    );
  }
  override async candidates(query: URLSearchParams): Promise<Candidates> {
    const got = await super.candidates(query);
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length === this.n) for (const w of this.waiting.splice(0)) w();
    });
    return got;
  }
}

test("two schedulers racing for the last room on a host: one wins, the other moves on", async () => {
  // "roomy" ranks first (most free RAM) but has VCPUs for one server only.
  const roomy = await h.addHost("roomy", { vcpus: 2, memoryMb: 65536 });
  await h.addHost("spare", { vcpus: 2, memoryMb: 8192 });
  const s = h.scheduler(new BarrierPlacement(2));
  const [a, b] = await Promise.all([s.select(req()), s.select(req())]);
  assert.deepEqual([a.choice.host, b.choice.host].sort(), ["roomy", "spare"]);
  const usage = await h.placement.providerUsage(roomy);
  assert.equal(usage?.usages.VCPU, 2, "the loser did not overcommit the contested host");
});

test("a race lost on the only host ends in NoValidHost saying so", async () => {
  await h.addHost("only", { vcpus: 2 });
  const s = h.scheduler(new BarrierPlacement(2));
  const results = await Promise.allSettled([s.select(req()), s.select(req())]);
  const won = results.filter((r) => r.status === "fulfilled");
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  assert.equal(won.length, 1);
  assert.equal(lost.length, 1);
  assert.ok(lost[0].reason instanceof NoValidHost);
  assert.equal(lost[0].reason.explanation, "0 of 1 host: 1 was filled by another request meanwhile");
  assert.equal(await noValidHost(req()), "0 of 1 host: 1 lacked 2 VCPU");
});

test("anti-affinity keeps group members apart; hints and traits narrow the hosts", async () => {
  for (const n of ["h1", "h2"]) await h.addHost(n);
  const member = randomUUID();
  await h.core.db
    .insertInto("compute_instance")
    .values({
      uuid: member,
      display_name: "m",
      hostname: "m",
      project_id: "p1",
      user_id: "u1",
      image_ref: "img",
      flavor: JSON.stringify(flavor()),
      vcpus: 2,
      memory_mb: 2048,
      host: "h1",
      node: "h1",
      vm_state: "active",
      reservation_id: "r-1",
      security_groups: "[]",
      addresses: "{}",
      request_spec: "{}",
      system_metadata: "{}",
      created_at: new Date().toISOString(),
    })
    .execute();
  const group = { uuid: randomUUID(), policy: "anti-affinity", rules: {}, hosts: ["h1"] };
  assert.equal((await h.scheduler().select(req({ group }))).choice.host, "h2");
  assert.equal((await h.scheduler().select(req({}, { hints: { same_host: member } }))).choice.host, "h1");
  const traits = req({ flavor: flavor({ extra_specs: { "trait:CUSTOM_NOPE": "required" } }) });
  assert.equal(await noValidHost(traits), "0 of 2 hosts: 2 did not match the traits asked for (CUSTOM_NOPE)");
});

test("a forbidden trait placement does not know excludes nothing", async () => {
  await h.addHost("h1");
  const r = req({ flavor: flavor({ extra_specs: { "trait:CUSTOM_NEVER_SEEN": "forbidden" } }) });
  assert.equal((await h.scheduler().select(r)).choice.host, "h1");
});

test("a migration consumer is claimed with consumer type MIGRATION", async () => {
  await h.addHost("h1");
  const r = req();
  const migration = randomUUID();
  await h.scheduler().select({ ...r, consumer: migration });
  const got = await h.placement.getAllocations(migration);
  assert.equal(got.type, "MIGRATION");
  assert.deepEqual(await h.allocations(r.instanceUuid), {});
});

// Placement allocations: the request formats per microversion (list before 1.12, object after), project and user
// (1.8), POST for several consumers (1.13), consumer generations (1.28), consumer types (1.38), mappings (1.34),
// capacity and unit constraints, concurrent writers, provider allocations and project usages.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { assertPlacementError, bootPlacement, type PlacementCloud } from "./helpers.js";

let p: PlacementCloud;
let rp: any;
let rp2: any;
before(async () => {
  p = await bootPlacement();
  rp = await p.provider("alloc-cn1");
  rp2 = await p.provider("alloc-cn2");
  await p.inventory(rp.uuid, {
    VCPU: { total: 8 },
    MEMORY_MB: { total: 4096, min_unit: 256, max_unit: 2048, step_size: 256 },
    DISK_GB: { total: 100, reserved: 20, allocation_ratio: 1.5 },
  });
  await p.inventory(rp2.uuid, { VCPU: { total: 4 }, DISK_GB: { total: 10 } });
});
after(() => p.close());

const genOf = async (uuid: string) => (await p.ok("GET", `/resource_providers/${uuid}`, 200)).generation;

describe("allocation formats", () => {
  test("1.0: a list, no project or user; GET shows only allocations", async () => {
    const c = randomUUID();
    await p.ok("PUT", `/allocations/${c}`, 204, {
      body: { allocations: [{ resource_provider: { uuid: rp.uuid }, resources: { VCPU: 1 } }] },
    });
    const got = await p.ok("GET", `/allocations/${c}`, 200);
    assert.deepEqual(Object.keys(got), ["allocations"]);
    assert.deepEqual(got.allocations[rp.uuid].resources, { VCPU: 1 });
    const v112 = await p.ok("GET", `/allocations/${c}`, 200, { mv: "1.12" });
    assert.equal(v112.project_id, "00000000-0000-0000-0000-000000000000");
    assertPlacementError(
      await p.req("PUT", `/allocations/${c}`, {
        mv: "1.8",
        body: { allocations: [{ resource_provider: { uuid: rp.uuid }, resources: { VCPU: 1 } }] },
      }),
      400,
    );
    await p.ok("DELETE", `/allocations/${c}`, 204);
    assertPlacementError(await p.req("DELETE", `/allocations/${c}`), 404);
    assert.deepEqual(await p.ok("GET", `/allocations/${c}`, 200, { mv: "latest" }), { allocations: {} });
  });

  test("1.12: an object keyed by provider with project and user; GET adds them; 1.28 adds the generation", async () => {
    const c = randomUUID();
    const gen = await genOf(rp.uuid);
    await p.ok("PUT", `/allocations/${c}`, 204, {
      mv: "1.12",
      body: {
        allocations: { [rp.uuid]: { resources: { VCPU: 2, DISK_GB: 10 } } },
        project_id: "proj",
        user_id: "usr",
      },
    });
    assert.equal(await genOf(rp.uuid), gen + 1, "writing allocations bumps the provider generation");
    const got = await p.ok("GET", `/allocations/${c}`, 200, { mv: "1.28" });
    assert.deepEqual(got, {
      allocations: { [rp.uuid]: { generation: gen + 1, resources: { VCPU: 2, DISK_GB: 10 } } },
      project_id: "proj",
      user_id: "usr",
      consumer_generation: 1,
    });
    assertPlacementError(
      await p.req("PUT", `/allocations/${c}`, {
        mv: "1.12",
        body: { allocations: {}, project_id: "a", user_id: "b" },
      }),
      400,
    );
    assertPlacementError(
      await p.req("PUT", `/allocations/${c}`, {
        mv: "1.11",
        body: { allocations: { [rp.uuid]: { resources: { VCPU: 1 } } }, project_id: "a", user_id: "b" },
      }),
      400,
    );
    await p.ok("DELETE", `/allocations/${c}`, 204);
  });

  test("1.38: consumer_type is required and shown; 1.34 accepts mappings", async () => {
    const c = randomUUID();
    const body = (extra: Record<string, unknown>) => ({
      allocations: { [rp.uuid]: { resources: { VCPU: 1 } } },
      project_id: "proj",
      user_id: "usr",
      consumer_generation: null,
      ...extra,
    });
    assertPlacementError(await p.req("PUT", `/allocations/${c}`, { mv: "1.38", body: body({}) }), 400);
    assertPlacementError(
      await p.req("PUT", `/allocations/${c}`, { mv: "1.33", body: body({ mappings: { "": [rp.uuid] } }) }),
      400,
    );
    await p.ok("PUT", `/allocations/${c}`, 204, { mv: "1.34", body: body({ mappings: { "": [rp.uuid] } }) });
    const got = await p.ok("GET", `/allocations/${c}`, 200, { mv: "1.38" });
    assert.equal(got.consumer_type, "unknown");
    await p.ok("PUT", `/allocations/${c}`, 204, {
      mv: "1.38",
      body: body({ consumer_generation: got.consumer_generation, consumer_type: "MIGRATION" }),
    });
    assert.equal((await p.ok("GET", `/allocations/${c}`, 200, { mv: "1.38" })).consumer_type, "MIGRATION");
    await p.ok("DELETE", `/allocations/${c}`, 204);
  });

  test("a malformed consumer uuid or an unknown provider or class is 400", async () => {
    const body = (rpUuid: string, rc = "VCPU") => ({
      mv: "latest",
      body: {
        allocations: { [rpUuid]: { resources: { [rc]: 1 } } },
        project_id: "p",
        user_id: "u",
        consumer_generation: null,
        consumer_type: "INSTANCE",
      },
    });
    assertPlacementError(await p.req("PUT", "/allocations/not-a-uuid", body(rp.uuid)), 400);
    assertPlacementError(await p.req("PUT", `/allocations/${randomUUID()}`, body(randomUUID())), 400);
    assertPlacementError(
      await p.req("PUT", `/allocations/${randomUUID()}`, body(rp.uuid, "CUSTOM_NOPE")),
      400,
    );
    const noInv = await p.req("PUT", `/allocations/${randomUUID()}`, body(rp2.uuid, "MEMORY_MB"));
    assertPlacementError(noInv, 409);
    assert.match(noInv.body.errors[0].detail, /Inventory for 'MEMORY_MB' on resource provider .* invalid/);
  });
});

describe("capacity", () => {
  test("(total - reserved) * allocation_ratio bounds what can be allocated", async () => {
    // DISK_GB: (100 - 20) * 1.5 = 120.
    const c1 = await p.allocate({ [rp.uuid]: { DISK_GB: 100 } });
    const over = await p.req("PUT", `/allocations/${randomUUID()}`, {
      mv: "latest",
      body: {
        allocations: { [rp.uuid]: { resources: { DISK_GB: 21 } } },
        project_id: "p",
        user_id: "u",
        consumer_generation: null,
        consumer_type: "INSTANCE",
      },
    });
    assertPlacementError(over, 409, "placement.undefined_code");
    assert.match(over.body.errors[0].detail, /would exceed the capacity/);
    const c2 = await p.allocate({ [rp.uuid]: { DISK_GB: 20 } });
    await p.ok("DELETE", `/allocations/${c1}`, 204);
    await p.ok("DELETE", `/allocations/${c2}`, 204);
  });

  test("min_unit, max_unit and step_size are enforced per allocation", async () => {
    const put = (amount: number) =>
      p.req("PUT", `/allocations/${randomUUID()}`, {
        mv: "latest",
        body: {
          allocations: { [rp.uuid]: { resources: { MEMORY_MB: amount } } },
          project_id: "p",
          user_id: "u",
          consumer_generation: null,
          consumer_type: "INSTANCE",
        },
      });
    for (const bad of [128, 300, 2304]) {
      const r = await put(bad);
      assertPlacementError(r, 409);
      assert.match(r.body.errors[0].detail, /violate inventory constraints/);
    }
    assert.equal((await put(512)).status, 204);
  });

  test("replacing a consumer's allocations does not count its old ones", async () => {
    const c = await p.allocate({ [rp2.uuid]: { VCPU: 4 } });
    const gen = (await p.ok("GET", `/allocations/${c}`, 200, { mv: "latest" })).consumer_generation;
    await p.ok("PUT", `/allocations/${c}`, 204, {
      mv: "latest",
      body: {
        allocations: { [rp2.uuid]: { resources: { VCPU: 3 } } },
        project_id: "p1",
        user_id: "u1",
        consumer_generation: gen,
        consumer_type: "INSTANCE",
      },
    });
    await p.ok("DELETE", `/allocations/${c}`, 204);
  });
});

describe("consumer generations (1.28)", () => {
  test("null for a new consumer, the current value after; mismatches are 409 placement.concurrent_update", async () => {
    const c = randomUUID();
    const body = (gen: unknown, vcpu = 1) => ({
      mv: "1.28",
      body: {
        allocations: { [rp2.uuid]: { resources: { VCPU: vcpu } } },
        project_id: "p",
        user_id: "u",
        consumer_generation: gen,
      },
    });
    assertPlacementError(
      await p.req("PUT", `/allocations/${c}`, {
        mv: "1.28",
        body: { allocations: {}, project_id: "p", user_id: "u" },
      }),
      400,
    );
    const wrongNew = await p.req("PUT", `/allocations/${c}`, {
      ...body(5),
      mv: "latest",
      body: { ...body(5).body, consumer_type: "INSTANCE" },
    });
    assertPlacementError(wrongNew, 409, "placement.concurrent_update");
    await p.ok("PUT", `/allocations/${c}`, 204, body(null));
    assert.equal((await p.req("PUT", `/allocations/${c}`, body(null))).status, 409);
    assert.equal((await p.req("PUT", `/allocations/${c}`, body(7))).status, 409);
    const g1 = (await p.ok("GET", `/allocations/${c}`, 200, { mv: "1.28" })).consumer_generation;
    assert.equal(g1, 1);
    // Two writers with the same generation: exactly one wins.
    const [a, b] = await Promise.all([
      p.req("PUT", `/allocations/${c}`, body(g1, 2)),
      p.req("PUT", `/allocations/${c}`, body(g1, 3)),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [204, 409]);
    const g2 = (await p.ok("GET", `/allocations/${c}`, 200, { mv: "1.28" })).consumer_generation;
    assert.equal(g2, 2);
    // An empty object with the generation safely removes them; the consumer is gone, so null works again.
    await p.ok("PUT", `/allocations/${c}`, 204, {
      mv: "1.28",
      body: { allocations: {}, project_id: "p", user_id: "u", consumer_generation: g2 },
    });
    assert.deepEqual(await p.ok("GET", `/allocations/${c}`, 200, { mv: "1.28" }), { allocations: {} });
    await p.ok("PUT", `/allocations/${c}`, 204, body(null));
    await p.ok("DELETE", `/allocations/${c}`, 204);
  });

  test("provider allocations show consumer generations from 1.28", async () => {
    const c = await p.allocate({ [rp2.uuid]: { VCPU: 1 } });
    const old = await p.ok("GET", `/resource_providers/${rp2.uuid}/allocations`, 200);
    assert.deepEqual(old.allocations[c], { resources: { VCPU: 1 } });
    const now = await p.ok("GET", `/resource_providers/${rp2.uuid}/allocations`, 200, { mv: "1.28" });
    assert.deepEqual(now.allocations[c], { resources: { VCPU: 1 }, consumer_generation: 1 });
    assert.equal(now.resource_provider_generation, await genOf(rp2.uuid));
    assertPlacementError(await p.req("GET", `/resource_providers/${randomUUID()}/allocations`), 404);
    await p.ok("DELETE", `/allocations/${c}`, 204);
  });
});

describe("POST /allocations (1.13)", () => {
  test("several consumers at once, all or nothing; an empty object clears one (move an allocation)", async () => {
    const instance = randomUUID();
    const migration = randomUUID();
    await p.ok("PUT", `/allocations/${instance}`, 204, {
      mv: "1.28",
      body: {
        allocations: { [rp.uuid]: { resources: { VCPU: 2 } } },
        project_id: "p",
        user_id: "u",
        consumer_generation: null,
      },
    });
    assertPlacementError(await p.req("POST", "/allocations", { mv: "1.12", body: {} }), 404);
    // Move: the migration consumer takes the old allocation, the instance the new one.
    await p.ok("POST", "/allocations", 204, {
      mv: "1.28",
      body: {
        [migration]: {
          allocations: { [rp.uuid]: { resources: { VCPU: 2 } } },
          project_id: "p",
          user_id: "u",
          consumer_generation: null,
        },
        [instance]: {
          allocations: { [rp2.uuid]: { resources: { VCPU: 2 } } },
          project_id: "p",
          user_id: "u",
          consumer_generation: 1,
        },
      },
    });
    assert.deepEqual(Object.keys((await p.ok("GET", `/allocations/${instance}`, 200)).allocations), [
      rp2.uuid,
    ]);
    // All or nothing: one impossible allocation fails the whole request.
    const fail = await p.req("POST", "/allocations", {
      mv: "1.28",
      body: {
        [migration]: { allocations: {}, project_id: "p", user_id: "u", consumer_generation: 1 },
        [instance]: {
          allocations: { [rp2.uuid]: { resources: { VCPU: 99 } } },
          project_id: "p",
          user_id: "u",
          consumer_generation: 2,
        },
      },
    });
    assertPlacementError(fail, 409);
    assert.deepEqual(Object.keys((await p.ok("GET", `/allocations/${migration}`, 200)).allocations), [
      rp.uuid,
    ]);
    await p.ok("POST", "/allocations", 204, {
      mv: "1.28",
      body: { [migration]: { allocations: {}, project_id: "p", user_id: "u", consumer_generation: 1 } },
    });
    assert.deepEqual((await p.ok("GET", `/allocations/${migration}`, 200)).allocations, {});
    await p.ok("DELETE", `/allocations/${instance}`, 204);
  });
});

describe("usages", () => {
  test("GET /usages by project and user (1.9), grouped by consumer type (1.38)", async () => {
    const put = (c: string, project: string, user: string, type: string | null, vcpu: number) =>
      p.ok("PUT", `/allocations/${c}`, 204, {
        mv: type ? "1.38" : "1.28",
        body: {
          allocations: { [rp.uuid]: { resources: { VCPU: vcpu } } },
          project_id: project,
          user_id: user,
          consumer_generation: null,
          ...(type ? { consumer_type: type } : {}),
        },
      });
    const c1 = randomUUID();
    const c2 = randomUUID();
    const c3 = randomUUID();
    await put(c1, "usage-proj", "alice", "INSTANCE", 1);
    await put(c2, "usage-proj", "bob", "MIGRATION", 2);
    await put(c3, "usage-proj", "bob", null, 1);
    assert.deepEqual((await p.ok("GET", "/usages?project_id=usage-proj", 200, { mv: "1.9" })).usages, {
      VCPU: 4,
    });
    assert.deepEqual(
      (await p.ok("GET", "/usages?project_id=usage-proj&user_id=bob", 200, { mv: "1.9" })).usages,
      {
        VCPU: 3,
      },
    );
    assert.deepEqual((await p.ok("GET", "/usages?project_id=usage-proj", 200, { mv: "1.38" })).usages, {
      INSTANCE: { VCPU: 1, consumer_count: 1 },
      MIGRATION: { VCPU: 2, consumer_count: 1 },
      unknown: { VCPU: 1, consumer_count: 1 },
    });
    assert.deepEqual(
      (await p.ok("GET", "/usages?project_id=usage-proj&consumer_type=all", 200, { mv: "1.38" })).usages,
      { all: { VCPU: 4, consumer_count: 3 } },
    );
    assert.deepEqual(
      (await p.ok("GET", "/usages?project_id=usage-proj&consumer_type=MIGRATION", 200, { mv: "1.38" }))
        .usages,
      { MIGRATION: { VCPU: 2, consumer_count: 1 } },
    );
    assert.deepEqual(
      (await p.ok("GET", "/usages?project_id=usage-proj&consumer_type=unknown", 200, { mv: "1.38" })).usages,
      { unknown: { VCPU: 1, consumer_count: 1 } },
    );
    assert.deepEqual((await p.ok("GET", "/usages?project_id=nobody", 200, { mv: "1.38" })).usages, {});
    assertPlacementError(await p.req("GET", "/usages?project_id=x&consumer_type=lower", { mv: "1.38" }), 400);
    assertPlacementError(await p.req("GET", "/usages", { mv: "1.9" }), 400);
    assertPlacementError(await p.req("GET", "/usages?project_id=x&consumer_type=all", { mv: "1.37" }), 400);
    // A project reader may read its own project's usages, not another's.
    const demo = await p.c.demoToken();
    const demoProject = await p.c.projectId("demo");
    assert.equal(
      (await p.req("GET", `/usages?project_id=${demoProject}`, { mv: "1.9", token: demo })).status,
      200,
    );
    assertPlacementError(
      await p.req("GET", "/usages?project_id=usage-proj", { mv: "1.9", token: demo }),
      403,
    );
    for (const c of [c1, c2, c3]) await p.ok("DELETE", `/allocations/${c}`, 204);
  });
});

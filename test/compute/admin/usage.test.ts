// os-simple-tenant-usage: hours over a period from launch and termination times (deleted servers count), the
// per-server details, paging from 2.40, the owner's own usage, and Nova's date formats.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { FLAVOR, addInstance, bootAdmin, dbOf } from "./fixtures.js";

let c: ComputeCloud;
let demoProject: string;
let running: string;
let ended: string;
before(async () => {
  c = await bootAdmin();
  const db = dbOf(c);
  demoProject = await c.t.projectId("demo");
  running = (
    await addInstance(db, {
      uuid: "00000000-0000-4000-8000-00000000000a",
      project_id: demoProject,
      display_name: "web",
      launched_at: "2024-01-01T00:00:00.000Z",
    })
  ).uuid;
  ended = (
    await addInstance(db, {
      uuid: "00000000-0000-4000-8000-00000000000b",
      project_id: demoProject,
      display_name: "old",
      launched_at: "2024-01-01T06:00:00.000Z",
      terminated_at: "2024-01-01T12:00:00.000Z",
      deleted: 1,
      deleted_at: "2024-01-01T12:00:00.000Z",
      vm_state: "deleted",
      flavor: { ...FLAVOR, name: "m1.small", vcpus: 2, memory_mb: 2048, root_gb: 20, ephemeral_gb: 5 },
    })
  ).uuid;
  await addInstance(db, { project_id: "other", launched_at: "2024-01-01T00:00:00.000Z" });
  // Never launched, or launched after the period: not counted.
  await addInstance(db, { project_id: demoProject, launched_at: null });
  await addInstance(db, { project_id: demoProject, launched_at: "2024-02-01T00:00:00.000Z" });
});
after(() => c.close());

const Q = "?start=2024-01-01T00:00:00&end=2024-01-02T00:00:00";

test("all tenants: totals, detailed server usages, deleted servers counted", async () => {
  const r = await c.req("GET", `/v2.1/os-simple-tenant-usage${Q}&detailed=1`, { token: c.admin });
  assert.equal(r.status, 200);
  const demo = r.body.tenant_usages.find((u: any) => u.tenant_id === demoProject);
  assert.equal(r.body.tenant_usages.length, 2);
  assert.equal(demo.start, "2024-01-01T00:00:00.000000");
  assert.equal(demo.stop, "2024-01-02T00:00:00.000000");
  assert.equal(demo.total_hours, 30);
  assert.equal(demo.total_vcpus_usage, 24 * 1 + 6 * 2);
  assert.equal(demo.total_memory_mb_usage, 24 * 512 + 6 * 2048);
  assert.equal(demo.total_local_gb_usage, 24 * 1 + 6 * 25);
  const [web, old] = demo.server_usages;
  assert.deepEqual(web, {
    instance_id: running,
    name: "web",
    hours: 24,
    memory_mb: 512,
    local_gb: 1,
    vcpus: 1,
    tenant_id: demoProject,
    flavor: "m1.tiny",
    started_at: "2024-01-01T00:00:00.000000",
    ended_at: null,
    state: "active",
    uptime: web.uptime,
  });
  assert.ok(web.uptime > 86400);
  assert.deepEqual(
    [old.instance_id, old.flavor, old.state, old.ended_at, old.uptime, old.hours, old.local_gb],
    [ended, "m1.small", "terminated", "2024-01-01T12:00:00.000000", 6 * 3600, 6, 25],
  );
  const brief = await c.req("GET", `/v2.1/os-simple-tenant-usage${Q}`, { token: c.admin });
  assert.equal(brief.body.tenant_usages[0].server_usages, undefined);
  const spaced = await c.req(
    "GET",
    "/v2.1/os-simple-tenant-usage?start=2024-01-01+06:00:00.5&end=2024-01-01T12:00:00.000001",
    {
      token: c.admin,
    },
  );
  assert.equal(spaced.status, 200);
  assert.equal(
    spaced.body.tenant_usages.find((u: any) => u.tenant_id === demoProject).start,
    "2024-01-01T06:00:00.500000",
  );
});

test("one tenant: owner or admin; empty usage is {}", async () => {
  const own = await c.req("GET", `/v2.1/os-simple-tenant-usage/${demoProject}${Q}`, { token: c.demo });
  assert.equal(own.status, 200);
  assert.equal(own.body.tenant_usage.server_usages.length, 2);
  assert.equal(own.body.tenant_usage.tenant_id, demoProject);
  const empty = await c.req("GET", `/v2.1/os-simple-tenant-usage/nobody${Q}`, { token: c.admin });
  assert.deepEqual(empty.body, { tenant_usage: {} });
  assert.equal((await c.req("GET", `/v2.1/os-simple-tenant-usage/other${Q}`, { token: c.demo })).status, 403);
  assert.equal((await c.req("GET", `/v2.1/os-simple-tenant-usage${Q}`, { token: c.demo })).status, 403);
});

test("paging from 2.40 with links; marker errors", async () => {
  const p1 = await c.req("GET", `/v2.1/os-simple-tenant-usage${Q}&detailed=1&limit=1`, {
    token: c.admin,
    mv: "2.40",
  });
  assert.equal(p1.status, 200);
  const usages = p1.body.tenant_usages.flatMap((u: any) => u.server_usages);
  assert.equal(usages.length, 1);
  const href = p1.body.tenant_usages_links[0].href;
  assert.match(
    href,
    /\/v2\.1\/os-simple-tenant-usage\?detailed=1&end=2024-01-02T00%3A00%3A00&limit=1&start=2024-01-01T00%3A00%3A00&marker=0{8}-/,
  );
  const next = await c.req("GET", href.slice(href.indexOf("/v2.1")), { token: c.admin, mv: "2.40" });
  assert.equal(next.body.tenant_usages.flatMap((u: any) => u.server_usages).length, 1);
  const one = await c.req("GET", `/v2.1/os-simple-tenant-usage/${demoProject}${Q}&limit=1`, {
    token: c.admin,
    mv: "2.40",
  });
  assert.match(one.body.tenant_usage_links[0].href, new RegExp(`os-simple-tenant-usage/${demoProject}\\?`));
  const ignored = await c.req("GET", `/v2.1/os-simple-tenant-usage${Q}&limit=1`, {
    token: c.admin,
    mv: "2.39",
  });
  assert.equal(ignored.body.tenant_usages.length, 2);
  const bad = await c.req("GET", `/v2.1/os-simple-tenant-usage${Q}&marker=nope`, {
    token: c.admin,
    mv: "2.40",
  });
  assert.deepEqual([bad.status, bad.body.badRequest.message], [400, "Marker nope could not be found."]);
  const strict = await c.req("GET", `/v2.1/os-simple-tenant-usage${Q}&x=1`, { token: c.admin, mv: "2.75" });
  assert.equal(strict.status, 400);
  assert.equal(
    (await c.req("GET", `/v2.1/os-simple-tenant-usage${Q}&x=1`, { token: c.admin, mv: "2.74" })).status,
    200,
  );
});

test("bad dates are 400", async () => {
  for (const q of [
    "?start=yesterday",
    "?start=2024-01-01T00:00:00Z",
    "?end=2024-13-01T00:00:00",
    "?start=2024-01-01",
  ]) {
    const r = await c.req("GET", `/v2.1/os-simple-tenant-usage${q}`, { token: c.admin });
    assert.equal(r.status, 400, q);
    assert.equal(r.body.badRequest.message, "Invalid datetime string: Datetime is in invalid format");
  }
  const inverted = await c.req(
    "GET",
    "/v2.1/os-simple-tenant-usage?start=2024-02-01T00:00:00&end=2024-01-01T00:00:00",
    {
      token: c.admin,
    },
  );
  assert.equal(
    inverted.body.badRequest.message,
    "Invalid start time. The start time cannot occur after the end time.",
  );
  assert.equal((await c.req("GET", "/v2.1/os-simple-tenant-usage", { token: c.admin })).status, 200);
});

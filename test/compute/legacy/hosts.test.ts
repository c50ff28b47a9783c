// os-hosts, os-instance_usage_audit_log, server diagnostics and os-server-password, on service, node and instance
// rows the tests insert (no agents).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { addInstance, addNode, addService, bootAdmin, dbOf, FLAVOR } from "../admin/fixtures.js";
import { auditPeriod, parseBefore } from "../../../src/compute/api/legacy/audit-log.js";

let c: ComputeCloud;
let demoProject: string;

before(async () => {
  c = await bootAdmin();
  const db = dbOf(c);
  const who = await c.t.cloud.app.inject({
    method: "GET",
    url: "/identity/v3/auth/tokens",
    headers: { "x-auth-token": c.admin, "x-subject-token": c.demo },
  });
  demoProject = JSON.parse(who.payload).token.project.id;
  await addService(db, { host: "h1" });
  await addService(db, { host: "h2", disabled: 1, disabled_reason: "off" });
  await addService(db, { host: "h3" });
  await addService(db, { host: "ctl", binary: "nova-conductor", topic: "conductor" });
  await addService(db, { host: "ctl", binary: "nova-osapi_compute", topic: null });
  await addNode(db, { host: "h1" });
  const big = { ...FLAVOR, vcpus: 2, memory_mb: 2048, root_gb: 10, ephemeral_gb: 5 };
  await addInstance(db, { host: "h1", project_id: "p1" });
  await addInstance(db, { host: "h1", project_id: "p2", vcpus: 2, memory_mb: 2048, flavor: big });
  await addInstance(db, { host: "h1", project_id: "p1", deleted: 1 });
});
after(() => c?.close());

test("os-hosts: enabled services with their topic and zone, zone filter, gone at 2.43", async () => {
  const r = await c.req("GET", "/v2.1/os-hosts", { token: c.admin });
  assert.equal(r.status, 200);
  const hosts = r.body.hosts as Array<Record<string, string>>;
  assert.deepEqual(
    hosts.find((h) => h.host_name === "h1"),
    { host_name: "h1", service: "compute", zone: "nova" },
  );
  assert.deepEqual(
    hosts.find((h) => h.host_name === "ctl"),
    { host_name: "ctl", service: "conductor", zone: "internal" },
  );
  assert.equal(hosts.filter((h) => h.host_name === "ctl").length, 1, "API services are not hosts");
  assert.ok(!hosts.some((h) => h.host_name === "h2"), "disabled services are left out");
  const nova = (await c.req("GET", "/v2.1/os-hosts?zone=nova", { token: c.admin })).body.hosts;
  assert.ok(nova.every((h: any) => h.zone === "nova") && nova.length >= 2);
  assert.equal(
    (await c.req("GET", "/v2.1/os-hosts?zone=", { token: c.admin })).body.hosts.length,
    hosts.length,
  );
  assert.deepEqual((await c.req("GET", "/v2.1/os-hosts?zone=xxx", { token: c.admin })).body.hosts, []);
  assert.equal((await c.req("GET", "/v2.1/os-hosts", { token: c.demo })).status, 403);
  assert.equal((await c.req("GET", "/v2.1/os-hosts", { token: c.admin, mv: "2.43" })).status, 404);
  assert.equal((await c.req("GET", "/v2.1/os-hosts", { token: c.admin, mv: "2.42" })).status, 200);
});

test("os-hosts/{host}: total, used now, used max and per project; 404 for unknown hosts", async () => {
  const r = await c.req("GET", "/v2.1/os-hosts/h1", { token: c.admin });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.host, [
    { resource: { host: "h1", project: "(total)", cpu: 8, memory_mb: 16384, disk_gb: 100 } },
    { resource: { host: "h1", project: "(used_now)", cpu: 2, memory_mb: 1024, disk_gb: 10 } },
    { resource: { host: "h1", project: "(used_max)", cpu: 3, memory_mb: 2560, disk_gb: 16 } },
    { resource: { host: "h1", project: "p1", cpu: 1, memory_mb: 512, disk_gb: 1 } },
    { resource: { host: "h1", project: "p2", cpu: 2, memory_mb: 2048, disk_gb: 15 } },
  ]);
  const none = await c.req("GET", "/v2.1/os-hosts/nonexistent", { token: c.admin });
  assert.equal(none.status, 404);
  assert.equal(none.body.itemNotFound.message, "Host 'nonexistent' is not mapped to any cell");
  const noNode = await c.req("GET", "/v2.1/os-hosts/h3", { token: c.admin });
  assert.equal(noNode.status, 404);
  assert.equal(noNode.body.itemNotFound.message, "Compute host h3 could not be found.");
  assert.equal((await c.req("GET", "/v2.1/os-hosts/h1", { token: c.demo })).status, 403);
});

test("os-hosts updates and power actions: 400 for bad bodies, 403, 404, else 501", async () => {
  const put = (host: string, body: unknown, token = c.admin) =>
    c.req("PUT", `/v2.1/os-hosts/${host}`, { token, body });
  assert.equal((await put("h1", { status: "enable" })).status, 501);
  assert.equal((await put("h1", { maintenance_mode: "Disable" })).status, 501);
  assert.equal((await put("h1", { status: "enable" }, c.demo)).status, 403);
  assert.equal((await put("nonexistent", { status: "enable", maintenance_mode: "enable" })).status, 404);
  for (const body of [{}, { status: "invalid" }, { status: "enable", maintenance_mode: "x" }, { other: 1 }])
    assert.equal((await put("h1", body)).status, 400, JSON.stringify(body));
  for (const action of ["startup", "shutdown", "reboot"]) {
    const r = await c.req("GET", `/v2.1/os-hosts/h1/${action}`, { token: c.admin });
    assert.equal(r.status, 501, action);
    assert.equal(r.body.notImplemented.message, "The requested functionality is not supported.");
    assert.equal((await c.req("GET", `/v2.1/os-hosts/nope/${action}`, { token: c.admin })).status, 404);
    assert.equal((await c.req("GET", `/v2.1/os-hosts/h1/${action}`, { token: c.demo })).status, 403);
  }
});

test("audit log: the last monthly period, every compute host not run", async () => {
  const r = await c.req("GET", "/v2.1/os-instance_usage_audit_log", { token: c.admin });
  assert.equal(r.status, 200, r.text);
  const log = r.body.instance_usage_audit_logs;
  const computes = ["h1", "h2", "h3"];
  assert.deepEqual(
    log.hosts_not_run.filter((h: string) => computes.includes(h)),
    computes,
    "disabled compute hosts count",
  );
  assert.ok(!log.hosts_not_run.includes("ctl"));
  assert.equal(log.num_hosts, log.hosts_not_run.length);
  assert.equal(log.num_hosts_not_run, log.num_hosts);
  assert.equal(log.num_hosts_done, 0);
  assert.equal(log.num_hosts_running, 0);
  assert.equal(log.overall_status, `0 of ${log.num_hosts} hosts done. 0 errors.`);
  assert.deepEqual(log.log, {});
  assert.match(log.period_beginning, /^\d{4}-\d\d-01 00:00:00$/);
  const show = await c.req(
    "GET",
    `/v2.1/os-instance_usage_audit_log/${encodeURIComponent("2020-03-15 10:00:00")}`,
    {
      token: c.admin,
    },
  );
  assert.equal(show.status, 200, show.text);
  assert.equal(show.body.instance_usage_audit_log.period_beginning, "2020-02-01 00:00:00");
  assert.equal(show.body.instance_usage_audit_log.period_ending, "2020-03-01 00:00:00");
  const bad = await c.req("GET", "/v2.1/os-instance_usage_audit_log/invalid_time", { token: c.admin });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.badRequest.message, "Invalid timestamp for date invalid_time");
  assert.equal((await c.req("GET", "/v2.1/os-instance_usage_audit_log", { token: c.demo })).status, 403);
  assert.equal(
    (await c.req("GET", "/v2.1/os-instance_usage_audit_log/invalid", { token: c.demo })).status,
    403,
  );
});

test("audit periods and timestamps as Nova computes and parses them", () => {
  const p = (s: string) => {
    const { begin, end } = auditPeriod(new Date(s));
    return [begin.toISOString().slice(0, 10), end.toISOString().slice(0, 10)];
  };
  assert.deepEqual(p("2026-01-15T00:00:00Z"), ["2025-12-01", "2026-01-01"]);
  assert.deepEqual(p("2026-01-01T00:00:00Z"), ["2025-11-01", "2025-12-01"]);
  assert.deepEqual(p("2026-03-01T00:00:01Z"), ["2026-02-01", "2026-03-01"]);
  assert.equal(parseBefore("2026-02-03 04:05:06.5").toISOString(), "2026-02-03T04:05:06.500Z");
  for (const bad of ["2026-02-30 00:00:00", "2026-02-03T04:05:06", "2026-02-03 04:05:06.", "2026-02-03"])
    assert.throws(() => parseBefore(bad), /Invalid timestamp/, bad);
});

test("diagnostics: admin only, running servers on a host, both formats", async () => {
  const db = dbOf(c);
  const mac = "fa:16:3e:00:00:01";
  const { uuid } = await addInstance(db, {
    host: "h1",
    project_id: demoProject,
    launched_at: new Date(Date.now() - 5000).toISOString(),
    config_drive: "True",
    addresses: JSON.stringify({ net: [{ addr: "10.0.0.3", "OS-EXT-IPS-MAC:mac_addr": mac }] }),
  });
  const D = `/v2.1/servers/${uuid}/diagnostics`;
  const old = await c.req("GET", D, { token: c.admin });
  assert.equal(old.status, 200, old.text);
  assert.equal(old.body.memory, 512 * 1024);
  assert.equal(old.body.cpu0_time, 0);
  assert.equal(old.body.vda_read, 0);
  assert.equal(old.body.vdb_read, 0, "the config drive");
  const r = await c.req("GET", D, { token: c.admin, mv: "2.48" });
  assert.equal(r.status, 200, r.text);
  const d = r.body;
  assert.equal(d.state, "running");
  assert.equal(d.driver, "libvirt");
  assert.equal(d.hypervisor, "fake");
  assert.equal(d.config_drive, true);
  assert.equal(d.num_cpus, 1);
  assert.equal(d.num_disks, 2);
  assert.equal(d.num_nics, 1);
  assert.ok(d.uptime >= 4);
  assert.deepEqual(d.memory_details, { maximum: 512, used: 0 });
  assert.deepEqual(d.cpu_details, [{ id: 0, time: 0, utilisation: null }]);
  assert.equal(d.nic_details[0].mac_address, mac);
  assert.equal(d.disk_details.length, 2);
  assert.equal((await c.req("GET", D, { token: c.demo })).status, 403);
  const stopped = await addInstance(db, { host: "h1", power_state: 4 });
  const s = await c.req("GET", `/v2.1/servers/${stopped.uuid}/diagnostics`, { token: c.admin });
  assert.equal(s.status, 409);
  assert.equal(
    s.body.conflictingRequest.message,
    `Cannot 'get_diagnostics' instance ${stopped.uuid} while it is in power state shutdown`,
  );
  const nowhere = await addInstance(db, { host: null });
  const n = await c.req("GET", `/v2.1/servers/${nowhere.uuid}/diagnostics`, { token: c.admin });
  assert.equal(n.status, 409);
  assert.equal(n.body.conflictingRequest.message, `Instance ${nowhere.uuid} is not ready`);
  const missing = "00000000-0000-0000-0000-000000000000";
  assert.equal((await c.req("GET", `/v2.1/servers/${missing}/diagnostics`, { token: c.admin })).status, 404);
});

test("os-server-password: the stored chunks or '', cleared by DELETE", async () => {
  const db = dbOf(c);
  const { uuid } = await addInstance(db, {
    host: "h1",
    project_id: demoProject,
    system_metadata: JSON.stringify({ password_0: "abc", password_1: "def", other: "x" }),
  });
  const P = `/v2.1/servers/${uuid}/os-server-password`;
  assert.deepEqual((await c.req("GET", P, { token: c.demo })).body, { password: "abcdef" });
  assert.equal((await c.req("DELETE", P, { token: c.demo })).status, 204);
  assert.deepEqual((await c.req("GET", P, { token: c.demo })).body, { password: "" });
  const row = await db
    .selectFrom("compute_instance")
    .select("system_metadata")
    .where("uuid", "=", uuid)
    .executeTakeFirstOrThrow();
  assert.equal(JSON.parse(row.system_metadata as string).other, "x");
  const others = await addInstance(db, { host: "h1", project_id: "p9" });
  assert.equal(
    (await c.req("GET", `/v2.1/servers/${others.uuid}/os-server-password`, { token: c.demo })).status,
    404,
  );
  assert.deepEqual(
    (await c.req("GET", `/v2.1/servers/${others.uuid}/os-server-password`, { token: c.admin })).body,
    {
      password: "",
    },
  );
});

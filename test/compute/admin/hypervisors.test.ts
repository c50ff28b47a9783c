// os-hypervisors: list/detail/show per microversion (ids, cpu_info, 2.88 field removal), paging and links,
// hostname pattern and with_servers, statistics, uptime, and the pre-2.53 search/servers routes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { addInstance, addNode, addService, bootAdmin, dbOf } from "./fixtures.js";

let c: ComputeCloud;
let n1: { id: number; uuid: string };
let n2: { id: number; uuid: string };
let n3: { id: number; uuid: string };
let svc1: { id: number; uuid: string };
before(async () => {
  c = await bootAdmin();
  const db = dbOf(c);
  svc1 = await addService(db, { host: "hv1" });
  await addService(db, { host: "hv2", disabled: 1, disabled_reason: "off", last_seen_up_ms: 0 });
  n1 = await addNode(db, { host: "hv1", hypervisor_hostname: "hv1.example.org" });
  n2 = await addNode(db, { host: "hv2", hypervisor_hostname: "hv2.example.org", vcpus: 4, vcpus_used: 1 });
  // A node whose service is gone: never listed.
  n3 = await addNode(db, { host: "orphan", hypervisor_hostname: "orphan.example.org" });
  await addInstance(db, { host: "hv1", node: "hv1.example.org", display_name: "a" });
  await addInstance(db, { host: "hv1", node: "hv1.example.org", task_state: "rebooting" });
});
after(() => c.close());

const get = (path: string, mv?: string, token = c.admin) =>
  c.req("GET", `/v2.1/os-hypervisors${path}`, { token, ...(mv ? { mv } : {}) });

test("list and detail: ids, states, stats fields and their removal at 2.88", async () => {
  const l = await get("");
  assert.equal(l.status, 200);
  assert.deepEqual(l.body.hypervisors, [
    { id: n1.id, hypervisor_hostname: "hv1.example.org", state: "up", status: "enabled" },
    { id: n2.id, hypervisor_hostname: "hv2.example.org", state: "down", status: "disabled" },
  ]);
  assert.equal(l.body.hypervisors_links, undefined);
  const d = await get("/detail");
  const h1 = d.body.hypervisors[0];
  assert.equal(typeof h1.cpu_info, "string");
  assert.deepEqual(JSON.parse(h1.cpu_info), { arch: "x86_64", model: "fake" });
  assert.deepEqual(h1.service, { id: svc1.id, host: "hv1", disabled_reason: null });
  assert.equal(h1.free_ram_mb, 16384 - 1024);
  assert.equal(h1.free_disk_gb, 90);
  assert.equal(h1.disk_available_least, 90);
  assert.equal(h1.current_workload, 1);
  assert.equal(h1.hypervisor_type, "fake");
  assert.equal(h1.host_ip, "192.0.2.10");
  assert.equal(h1.uptime, undefined);
  assert.deepEqual((await get("/detail", "2.28")).body.hypervisors[0].cpu_info, {
    arch: "x86_64",
    model: "fake",
  });
  const v253 = (await get("/detail", "2.53")).body.hypervisors[0];
  assert.equal(v253.id, n1.uuid);
  assert.equal(v253.service.id, svc1.uuid);
  const v288 = await get("/detail", "2.88");
  const [up, down] = v288.body.hypervisors;
  for (const k of ["vcpus", "memory_mb", "free_ram_mb", "cpu_info", "running_vms", "current_workload"])
    assert.equal(up[k], undefined, k);
  assert.match(up.uptime, / up .*load average: /);
  assert.equal(down.uptime, null);
  assert.equal(up.hypervisor_type, "fake");
});

test("paging from 2.33 with links; markers; bad limits", async () => {
  const p1 = await get("?limit=1", "2.33");
  assert.equal(p1.body.hypervisors.length, 1);
  assert.match(
    p1.body.hypervisors_links[0].href,
    new RegExp(`/v2\\.1/os-hypervisors\\?limit=1&marker=${n1.id}$`),
  );
  const p2 = await get(`/detail?limit=1&marker=${n1.id}`, "2.33");
  assert.equal(p2.body.hypervisors[0].id, n2.id);
  assert.match(p2.body.hypervisors_links[0].href, /os-hypervisors\/detail\?limit=1&marker=/);
  const u = await get(`?limit=5&marker=${n1.uuid}`, "2.53");
  assert.deepEqual(
    u.body.hypervisors.map((h: any) => h.id),
    [n2.uuid],
  );
  assert.equal(u.body.hypervisors_links, undefined);
  assert.equal((await get("?limit=1", "2.32")).body.hypervisors.length, 2);
  const badMarker = await get("?marker=nope", "2.33");
  assert.deepEqual([badMarker.status, badMarker.body.badRequest.message], [400, "marker [nope] not found"]);
  const badLimit = await get("?limit=-1", "2.33");
  assert.equal(badLimit.status, 400);
  assert.equal(
    badLimit.body.badRequest.message,
    "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'",
  );
  assert.equal((await get("?limit=abc", "2.53")).status, 400);
  assert.equal((await get("?foo=1", "2.53")).status, 400);
  assert.equal((await get("?foo=1", "2.52")).status, 200);
});

test("2.53: hostname pattern, with_servers, show by uuid", async () => {
  const p = await get("?hypervisor_hostname_pattern=hv2", "2.53");
  assert.deepEqual(
    p.body.hypervisors.map((h: any) => h.hypervisor_hostname),
    ["hv2.example.org"],
  );
  const none = await get("?hypervisor_hostname_pattern=zzz", "2.53");
  assert.deepEqual(
    [none.status, none.body.itemNotFound.message],
    [404, "No hypervisor matching 'zzz' could be found."],
  );
  const paged = await get("?hypervisor_hostname_pattern=hv&limit=1", "2.53");
  assert.equal(paged.status, 400);
  assert.equal(
    paged.body.badRequest.message,
    "Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.",
  );
  assert.equal((await get("?hypervisor_hostname_pattern=a%20b", "2.53")).status, 400);
  const ws = await get("?with_servers=true", "2.53");
  assert.equal(ws.body.hypervisors[0].servers.length, 2);
  assert.match(ws.body.hypervisors[0].servers[0].name, /^instance-[0-9a-f]{8}$/);
  assert.equal(ws.body.hypervisors[1].servers, undefined);
  assert.deepEqual((await get("?with_servers=1", "2.75")).body.hypervisors[1].servers, []);
  const badBool = await get("?with_servers=maybe", "2.53");
  assert.equal(badBool.status, 400);
  assert.match(
    badBool.body.badRequest.message,
    /^Invalid input for query parameters with_servers\. Value: maybe\. 'maybe' is not one of \[True, 'True'/,
  );

  const s = await get(`/${n1.uuid}?with_servers=yes`, "2.53");
  assert.equal(s.status, 200);
  assert.equal(s.body.hypervisor.id, n1.uuid);
  assert.equal(s.body.hypervisor.servers.length, 2);
  assert.equal((await get(`/${n1.id}`, "2.53")).body.badRequest.message, `Invalid uuid ${n1.id}`);
  assert.equal((await get(`/${n1.uuid}?x=1`, "2.53")).status, 400);
  const missing = await get("/00000000-0000-4000-8000-000000000000", "2.53");
  assert.equal(missing.status, 404);
  assert.equal((await get(`/${n3.uuid}`, "2.53")).status, 404);
});

test("show, uptime, statistics, search and servers before 2.53; removed routes answer 404", async () => {
  const s = await get(`/${n1.id}`);
  assert.equal(s.body.hypervisor.id, n1.id);
  assert.equal(s.body.hypervisor.vcpus, 8);
  const nf = await get("/abc");
  assert.deepEqual(
    [nf.status, nf.body.itemNotFound.message],
    [404, "Hypervisor with ID 'abc' could not be found."],
  );
  assert.equal((await get("/99999")).status, 404);

  const up = await get(`/${n1.id}/uptime`);
  assert.equal(up.status, 200);
  assert.deepEqual(Object.keys(up.body.hypervisor).sort(), [
    "hypervisor_hostname",
    "id",
    "state",
    "status",
    "uptime",
  ]);
  const downHost = await get(`/${n2.id}/uptime`);
  assert.deepEqual(
    [downHost.status, downHost.body.badRequest.message],
    [400, "Compute service of hv2 is unavailable at this time."],
  );
  assert.equal((await get(`/${n1.uuid}/uptime`, "2.88")).status, 404);

  const st = await get("/statistics");
  assert.deepEqual(st.body.hypervisor_statistics, {
    count: 1,
    vcpus: 8,
    memory_mb: 16384,
    local_gb: 100,
    vcpus_used: 2,
    memory_mb_used: 1024,
    local_gb_used: 10,
    free_ram_mb: 15360,
    free_disk_gb: 90,
    current_workload: 1,
    running_vms: 1,
    disk_available_least: 90,
  });
  assert.equal((await get("/statistics", "2.88")).status, 404);

  const search = await get("/example/search");
  assert.equal(search.body.hypervisors.length, 2);
  assert.equal(search.body.hypervisors[0].servers, undefined);
  assert.equal((await get("/nothing/search")).status, 404);
  const servers = await get("/hv1/servers");
  assert.equal(servers.body.hypervisors[0].servers.length, 2);
  assert.equal((await get("/hv1/servers", "2.53")).status, 404);
  assert.equal((await get("/hv1/search", "2.53")).status, 404);
});

test("non-admins get 403", async () => {
  for (const path of [
    "",
    "/detail",
    "/statistics",
    `/${n1.id}`,
    `/${n1.id}/uptime`,
    "/hv/search",
    "/hv/servers",
  ])
    assert.equal((await get(path, undefined, c.demo)).status, 403, path);
});

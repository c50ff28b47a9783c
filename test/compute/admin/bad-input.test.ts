// Garbage in, never a 500 out: every operator route with odd ids, bodies and query strings at several
// microversions answers with a 2xx or a Nova 4xx error body.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { addInstance, addNode, addService, bootAdmin, dbOf } from "./fixtures.js";

let c: ComputeCloud;
let server: string;
before(async () => {
  c = await bootAdmin();
  await addService(dbOf(c), { host: "bx" });
  await addNode(dbOf(c), { host: "bx", cpu_info: "not json" });
  server = (await addInstance(dbOf(c), { host: "bx" })).uuid;
});
after(() => c.close());

const IDS = [
  "0",
  "-1",
  "99999999999999999999999",
  "1e5",
  "%20",
  "%00",
  "a%2Fb",
  "🙂",
  "x".repeat(300),
  "null",
];
const BODIES: unknown[] = [null, 1, "x", [], {}, { a: { b: [1, { c: null }] } }, "{bad json"];
const QUERIES = [
  "?limit=99999999999999999999999&marker=%00",
  "?limit=1&limit=2",
  "?changes-since=9999-12-31T23:59:59Z&changes-before=0001-01-01",
  "?start=0001-01-01T00:00:00&end=9999-12-31T23:59:59.999999",
  "?hypervisor_hostname_pattern=%25_&with_servers=on",
  "?host=%00&binary=&status=x&migration_type=&instance_uuid=1",
  "?detailed=1&start=2024-02-30T00:00:00",
];
const VERSIONS = [undefined, "2.11", "2.40", "2.53", "2.59", "2.80", "2.88", "2.93"];

async function check(method: string, path: string, body?: unknown, mv?: string) {
  const raw = typeof body === "string" && body.startsWith("{");
  const r = raw
    ? await c.t.cloud.app.inject({
        method: method as any,
        url: `/compute${path}`,
        headers: { "x-auth-token": c.admin, "content-type": "application/json", accept: "application/json" },
        payload: body as string,
      })
    : undefined;
  const status = r
    ? r.statusCode
    : (await c.req(method, path, { token: c.admin, body, ...(mv ? { mv } : {}) })).status;
  assert.ok(status < 500, `${method} ${path} ${JSON.stringify(body)} ${mv} -> ${status}`);
}

test("odd path ids and query strings", async () => {
  const paths = (id: string) => [
    `/v2.1/os-hypervisors/${id}`,
    `/v2.1/os-hypervisors/${id}/uptime`,
    `/v2.1/os-hypervisors/${id}/search`,
    `/v2.1/os-hypervisors/${id}/servers`,
    `/v2.1/os-aggregates/${id}`,
    `/v2.1/servers/${id}/migrations`,
    `/v2.1/servers/${server}/migrations/${id}`,
    `/v2.1/servers/${id}/os-instance-actions`,
    `/v2.1/servers/${server}/os-instance-actions/${id}`,
    `/v2.1/os-simple-tenant-usage/${id}`,
  ];
  for (const mv of VERSIONS) {
    for (const id of IDS) {
      for (const p of paths(id)) await check("GET", p, undefined, mv);
      await check("DELETE", `/v2.1/os-services/${id}`, undefined, mv);
      await check("DELETE", `/v2.1/os-aggregates/${id}`, undefined, mv);
    }
    for (const q of QUERIES)
      for (const p of [
        "/v2.1/os-services",
        "/v2.1/os-hypervisors",
        "/v2.1/os-hypervisors/detail",
        "/v2.1/os-hypervisors/statistics",
        "/v2.1/os-aggregates",
        "/v2.1/os-availability-zone",
        "/v2.1/os-availability-zone/detail",
        "/v2.1/os-migrations",
        "/v2.1/os-simple-tenant-usage",
        `/v2.1/servers/${server}/os-instance-actions`,
      ])
        await check("GET", `${p}${q}`, undefined, mv);
  }
});

test("odd bodies", async () => {
  const nested = (v: unknown) => [
    v,
    { aggregate: v },
    { aggregate: { name: v, availability_zone: v } },
    { add_host: v },
    { add_host: { host: v } },
    { remove_host: { host: v } },
    { set_metadata: v },
    { set_metadata: { metadata: v } },
    { set_metadata: { metadata: { k: v } } },
    { events: v },
    { events: [v] },
    { events: [{ name: "power-update", server_uuid: server, tag: v }] },
    { events: [{ name: v, server_uuid: v, status: v }] },
    { host: v, binary: v, disabled_reason: v, forced_down: v, status: v },
  ];
  for (const mv of [undefined, "2.53", "2.93"])
    for (const v of BODIES)
      for (const body of nested(v)) {
        await check("POST", "/v2.1/os-aggregates", body, mv);
        await check("PUT", "/v2.1/os-aggregates/1", body, mv);
        await check("POST", "/v2.1/os-aggregates/1/action", body, mv);
        await check("POST", "/v2.1/os-server-external-events", body, mv);
        for (const id of ["enable", "disable", "disable-log-reason", "force-down", "1", server])
          await check("PUT", `/v2.1/os-services/${id}`, body, mv);
      }
});

test("a stored cpu_info that is not JSON shows as {} from 2.28", async () => {
  const r = await c.req("GET", "/v2.1/os-hypervisors/detail", { token: c.admin, mv: "2.28" });
  assert.deepEqual(r.body.hypervisors[0].cpu_info, {});
});

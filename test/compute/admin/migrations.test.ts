// os-migrations (filters, fields per microversion, paging from 2.59, changes-since/before, 2.80 user/project) and
// the in-progress live migrations of one server.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { addInstance, addMigration, bootAdmin, dbOf } from "./fixtures.js";

let c: ComputeCloud;
let inst: string;
let live: { id: number; uuid: string };
let resize: { id: number; uuid: string };
let old: { id: number; uuid: string };
before(async () => {
  c = await bootAdmin();
  const db = dbOf(c);
  inst = (await addInstance(db, { host: "src" })).uuid;
  old = await addMigration(db, {
    instance_uuid: inst,
    status: "confirmed",
    migration_type: "resize",
    created_at: "2024-01-01T00:00:00.000Z",
    updated_at: "2024-01-01T01:00:00.000Z",
    user_id: "u2",
    project_id: "p2",
  });
  resize = await addMigration(db, {
    instance_uuid: inst,
    status: "finished",
    migration_type: "resize",
    source_compute: "a",
    dest_compute: "b",
    created_at: "2024-02-01T00:00:00.000Z",
    updated_at: "2024-02-01T01:00:00.000Z",
  });
  live = await addMigration(db, {
    instance_uuid: inst,
    status: "running",
    migration_type: "live-migration",
    created_at: "2024-03-01T00:00:00.000Z",
    updated_at: "2024-03-01T01:00:00.000Z",
  });
});
after(() => c.close());

const list = (q = "", mv?: string, token = c.admin) =>
  c.req("GET", `/v2.1/os-migrations${q}`, { token, ...(mv ? { mv } : {}) });

test("fields per microversion: type and links at 2.23, uuid at 2.59, user and project at 2.80", async () => {
  const r = await list();
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.body.migrations.map((m: any) => m.id),
    [old.id, resize.id, live.id],
  );
  const m = r.body.migrations[0];
  assert.deepEqual(m, {
    created_at: "2024-01-01T00:00:00.000000",
    dest_compute: "dst",
    dest_host: "192.0.2.20",
    dest_node: "dst",
    id: old.id,
    instance_uuid: inst,
    new_instance_type_id: 2,
    old_instance_type_id: 1,
    source_compute: "src",
    source_node: "src",
    status: "confirmed",
    updated_at: "2024-01-01T01:00:00.000000",
  });
  const v223 = (await list("", "2.23")).body.migrations;
  assert.equal(v223[0].migration_type, "resize");
  assert.equal(v223[0].links, undefined);
  assert.match(v223[2].links[0].href, new RegExp(`/v2\\.1/servers/${inst}/migrations/${live.id}$`));
  assert.equal(v223[2].links[1].rel, "bookmark");
  const v259 = (await list("", "2.59")).body.migrations;
  assert.deepEqual(
    v259.map((x: any) => x.uuid),
    [live.uuid, resize.uuid, old.uuid],
  );
  assert.equal(v259[0].user_id, undefined);
  const v280 = (await list("?user_id=u2", "2.80")).body.migrations;
  assert.deepEqual(
    v280.map((x: any) => [x.id, x.user_id, x.project_id]),
    [[old.id, "u2", "p2"]],
  );
  assert.equal((await list("?project_id=p1", "2.80")).body.migrations.length, 2);
});

test("filters", async () => {
  const ids = async (q: string, mv?: string) => (await list(q, mv)).body.migrations.map((m: any) => m.id);
  assert.deepEqual(await ids("?status=running"), [live.id]);
  assert.deepEqual(await ids("?migration_type=resize"), [old.id, resize.id]);
  assert.deepEqual(await ids("?host=b"), [resize.id]);
  assert.deepEqual(await ids("?source_compute=a"), [resize.id]);
  assert.deepEqual(await ids(`?instance_uuid=${inst}&status=finished`), [resize.id]);
  assert.deepEqual(await ids("?changes-since=2024-02-15T00:00:00Z"), [old.id, resize.id, live.id]);
  assert.deepEqual(await ids("?changes-since=2024-02-15T00:00:00Z", "2.59"), [live.id]);
  assert.deepEqual(await ids("?changes-before=2024-02-15T00:00:00Z", "2.66"), [resize.id, old.id]);
  assert.deepEqual(await ids("?changes-before=2024-01-01", "2.66"), []);
});

test("paging from 2.59 and bad query parameters", async () => {
  const p1 = await list("?limit=2", "2.59");
  assert.deepEqual(
    p1.body.migrations.map((m: any) => m.id),
    [live.id, resize.id],
  );
  assert.match(
    p1.body.migrations_links[0].href,
    new RegExp(`/v2\\.1/os-migrations\\?limit=2&marker=${resize.uuid}$`),
  );
  const p2 = await list(`?limit=2&marker=${resize.uuid}`, "2.59");
  assert.deepEqual(
    p2.body.migrations.map((m: any) => m.id),
    [old.id],
  );
  assert.equal(p2.body.migrations_links, undefined);
  assert.deepEqual((await list("?limit=0", "2.59")).body.migrations, []);
  const cases: Array<[string, string, string]> = [
    ["?marker=nope", "2.59", "Marker nope could not be found."],
    ["?limit=x", "2.59", "Invalid input for query parameters limit. Value: x. 'x' does not match '^[0-9]*$'"],
    [
      "?changes-since=yesterday",
      "2.59",
      "Invalid input for query parameters changes-since. Value: yesterday. 'yesterday' is not a 'date-time'",
    ],
    [
      "?changes-before=2024-01-01",
      "2.65",
      "Additional properties are not allowed ('changes-before' was unexpected)",
    ],
    ["?user_id=u", "2.79", "Additional properties are not allowed ('user_id' was unexpected)"],
    [
      "?changes-since=2024-02-01&changes-before=2024-01-01",
      "2.66",
      "The value of changes-since must be less than or equal to changes-before.",
    ],
  ];
  for (const [q, mv, message] of cases) {
    const r = await list(q, mv);
    assert.equal(r.status, 400, q);
    assert.equal(r.body.badRequest.message, message);
  }
  assert.equal((await list("?whatever=1", "2.58")).status, 200);
  assert.equal((await list("", undefined, c.demo)).status, 403);
});

test("a server's in-progress live migrations", async () => {
  const base = `/v2.1/servers/${inst}/migrations`;
  const l = await c.req("GET", base, { token: c.admin, mv: "2.23" });
  assert.equal(l.status, 200);
  assert.equal(l.body.migrations.length, 1);
  const m = l.body.migrations[0];
  assert.equal(m.id, live.id);
  assert.equal(m.server_uuid, inst);
  assert.equal(m.memory_total_bytes, null);
  assert.equal(m.uuid, undefined);
  const v280 = await c.req("GET", `${base}/${live.id}`, { token: c.admin, mv: "2.80" });
  assert.equal(v280.body.migration.uuid, live.uuid);
  assert.equal(v280.body.migration.project_id, "p1");
  assert.equal((await c.req("GET", base, { token: c.admin, mv: "2.22" })).status, 404);
  const notLive = await c.req("GET", `${base}/${resize.id}`, { token: c.admin, mv: "2.23" });
  assert.deepEqual(
    [notLive.status, notLive.body.itemNotFound.message],
    [404, `Migration ${resize.id} for server ${inst} is not live-migration.`],
  );
  await dbOf(c)
    .updateTable("compute_server_migration")
    .set({ status: "completed" })
    .where("id", "=", live.id)
    .execute();
  const done = await c.req("GET", `${base}/${live.id}`, { token: c.admin, mv: "2.23" });
  assert.equal(
    done.body.itemNotFound.message,
    `Live migration ${live.id} for server ${inst} is not in progress.`,
  );
  await dbOf(c)
    .updateTable("compute_server_migration")
    .set({ status: "running" })
    .where("id", "=", live.id)
    .execute();
  const nf = await c.req("GET", `${base}/abc`, { token: c.admin, mv: "2.23" });
  assert.equal(
    nf.body.itemNotFound.message,
    `In-progress live migration abc is not found for server ${inst}.`,
  );
  const noServer = await c.req("GET", "/v2.1/servers/00000000-0000-4000-8000-000000000000/migrations", {
    token: c.admin,
    mv: "2.23",
  });
  assert.deepEqual(
    [noServer.status, noServer.body.itemNotFound.message],
    [404, "Instance 00000000-0000-4000-8000-000000000000 could not be found."],
  );
  assert.equal((await c.req("GET", base, { token: c.demo, mv: "2.23" })).status, 403);
});

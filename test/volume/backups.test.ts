// Volume backups through the Cinder v3 API with the fake volume backend and the fake backup driver (chunks of 4 KiB
// in memory): create (full, incremental, of a snapshot, of an in-use volume with force), list/detail with filters
// and pagination, show, update, restore to a new and to an existing volume (bytes compared), delete rules, the admin
// actions, export/import of records, quotas, failures, and Cinder's error bodies.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

const CHUNK = 4096;
let c: VolumeCloud;
before(async () => {
  c = await bootVolume({
    volume: {
      backend: "fake",
      backup: { driver: "fake", chunkSize: CHUNK, container: "volumebackups", posixPath: "" },
    },
  });
});
after(() => c?.close());

/** A pattern of `n` chunks, chunk i filled with byte i+1 (the second one zeros). */
const pattern = (n: number): Buffer => {
  const b = Buffer.alloc(n * CHUNK);
  for (let i = 0; i < n; i++) if (i !== 1) b.fill(i + 1, i * CHUNK, (i + 1) * CHUNK);
  return b;
};

const write = (id: string, data: Buffer) => c.backend().writeImage(id, Readable.from([data]), "raw");
const read = async (id: string): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const p of await c.backend().readRaw(id)) parts.push(p as Buffer);
  return Buffer.concat(parts);
};

async function waitBackup(token: string, id: string, status: string) {
  return until(`backup ${id} ${status}`, async () => {
    const r = await c.req("GET", `/backups/${id}`, { token, mv: "3.64" });
    if (r.status !== 200) throw new Error(`GET backup ${id}: ${r.status} ${r.text}`);
    const s = r.body.backup.status;
    if (s === "error" && status !== "error")
      throw new Error(`backup ${id} went to error: ${r.body.backup.fail_reason}`);
    return s === status ? r.body.backup : null;
  });
}

async function backup(token: string, body: Record<string, unknown>, mv?: string): Promise<string> {
  const r = await c.req("POST", "/backups", { token, body: { backup: body }, mv });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(Object.keys(r.body.backup).sort(), ["id", "links", "name"]);
  return r.body.backup.id as string;
}

describe("block storage: backups", () => {
  let vol: string;
  let full: string;
  let incr: string;

  it("backs up an available volume: backing-up, then available with the backup's view", async () => {
    vol = await c.create(c.demo, { name: "b-src", metadata: { "vol-meta1": "value1" } });
    await c.waitStatus(c.demo, vol, "available");
    await write(vol, pattern(3));
    full = await backup(
      c.demo,
      { volume_id: vol, name: "full", description: "first", metadata: { k: "v" } },
      "3.43",
    );
    const b = await waitBackup(c.demo, full, "available");
    assert.equal(b.name, "full");
    assert.equal(b.description, "first");
    assert.equal(b.volume_id, vol);
    assert.equal(b.size, 1);
    assert.equal(b.container, "volumebackups");
    assert.equal(b.is_incremental, false);
    assert.equal(b.has_dependent_backups, false);
    assert.equal(b.object_count, 3, "two data chunks (the zero one is not stored) and the metadata object");
    assert.deepEqual(b.metadata, { k: "v" });
    assert.equal(b.snapshot_id, null);
    assert.equal(b.fail_reason, null);
    assert.equal(b.availability_zone, "nova");
    assert.equal(typeof b.data_timestamp, "string");
    assert.equal(b.encryption_key_id, null);
    assert.equal(b["os-backup-project-attr:project_id"], undefined, "the project is for admins");
    const asAdmin = await c.req("GET", `/volume/v3/${c.adminProject}/backups/${full}`, { mv: "3.18" });
    assert.equal(asAdmin.body.backup["os-backup-project-attr:project_id"], c.demoProject);
    await c.waitStatus(c.demo, vol, "available");
  });

  it("backs up incrementally: only the changed chunk is stored", async () => {
    const changed = pattern(3);
    changed.fill(9, 2 * CHUNK, 3 * CHUNK);
    await write(vol, changed);
    incr = await backup(c.demo, { volume_id: vol, incremental: true, name: "incr" });
    const b = await waitBackup(c.demo, incr, "available");
    assert.equal(b.is_incremental, true);
    assert.equal(b.object_count, 2, "one changed chunk and the metadata");
    assert.equal((await waitBackup(c.demo, full, "available")).has_dependent_backups, true);
    const del = await c.req("DELETE", `/backups/${full}`, { token: c.demo });
    assert.equal(del.status, 400);
    assert.match(del.body.badRequest.message, /Incremental backups exist for this backup/);
  });

  it("refuses an incremental backup without a full one", async () => {
    const other = await c.create(c.demo);
    await c.waitStatus(c.demo, other, "available");
    const r = await c.req("POST", "/backups", {
      token: c.demo,
      body: { backup: { volume_id: other, incremental: true } },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /No backups available to do an incremental backup/);
  });

  it("restores to a new volume and to an existing one, byte for byte", async () => {
    const want = await read(vol);
    const r = await c.req("POST", `/backups/${incr}/restore`, {
      token: c.demo,
      body: { restore: { name: "rest" } },
    });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(Object.keys(r.body.restore).sort(), ["backup_id", "volume_id", "volume_name"]);
    assert.equal(r.body.restore.backup_id, incr);
    assert.equal(r.body.restore.volume_name, "rest");
    const restored = r.body.restore.volume_id as string;
    await c.waitStatus(c.demo, restored, "available");
    await waitBackup(c.demo, incr, "available");
    assert.ok((await read(restored)).equals(want), "the incremental restore has the latest data");
    // The restored volume gets the backed-up volume's metadata (tempest's restore checks it).
    const shown = await c.req("GET", `/volumes/${restored}`, { token: c.demo });
    assert.equal(shown.body.volume.metadata["vol-meta1"], "value1");
    const target = await c.create(c.demo, { size: 2 });
    await c.waitStatus(c.demo, target, "available");
    const r2 = await c.req("POST", `/backups/${full}/restore`, {
      token: c.demo,
      body: { restore: { volume_id: target } },
    });
    assert.equal(r2.status, 202, r2.text);
    assert.equal(r2.body.restore.volume_id, target);
    await c.waitStatus(c.demo, target, "available");
    await waitBackup(c.demo, full, "available");
    assert.ok((await read(target)).equals(pattern(3)), "the full backup's data");
  });

  it("refuses a restore into an in-use or a smaller volume, and of a backup that is not available", async () => {
    const small = await c.create(c.demo, { size: 1 });
    await c.waitStatus(c.demo, small, "available");
    const big = await c.create(c.demo, { size: 2 });
    await c.waitStatus(c.demo, big, "available");
    const b2 = await backup(c.demo, { volume_id: big });
    await waitBackup(c.demo, b2, "available");
    const tooSmall = await c.req("POST", `/backups/${b2}/restore`, {
      token: c.demo,
      body: { restore: { volume_id: small } },
    });
    assert.equal(tooSmall.status, 400);
    assert.match(tooSmall.body.badRequest.message, /too small to restore backup of size 2/);
    const reset = await c.req("POST", `/volume/v3/${c.adminProject}/volumes/${big}/action`, {
      body: { "os-reset_status": { status: "in-use" } },
    });
    assert.equal(reset.status, 202, reset.text);
    const inUse = await c.req("POST", `/backups/${b2}/restore`, {
      token: c.demo,
      body: { restore: { volume_id: big } },
    });
    assert.equal(inUse.status, 400);
    assert.match(inUse.body.badRequest.message, /must be available/);
    const noForce = await c.req("POST", "/backups", { token: c.demo, body: { backup: { volume_id: big } } });
    assert.equal(noForce.status, 400);
    assert.match(noForce.body.badRequest.message, /in-use volume must use the force flag/);
    const forced = await backup(c.demo, { volume_id: big, force: true });
    await waitBackup(c.demo, forced, "available");
    assert.equal(
      (await c.waitStatus(c.demo, big, "in-use")).status,
      "in-use",
      "the volume gets its status back",
    );
    await c.req("POST", `/volume/v3/${c.adminProject}/backups/${forced}/action`, {
      body: { "os-reset_status": { status: "error" } },
    });
    const notAvail = await c.req("POST", `/backups/${forced}/restore`, {
      token: c.demo,
      body: { restore: {} },
    });
    assert.equal(notAvail.status, 400);
    assert.match(notAvail.body.badRequest.message, /Backup status must be available/);
  });

  it("backs up a snapshot, leaving the volume alone", async () => {
    const s = await c.req("POST", "/snapshots", { token: c.demo, body: { snapshot: { volume_id: vol } } });
    assert.equal(s.status, 202, s.text);
    const sid = s.body.snapshot.id as string;
    await until("snapshot available", async () => {
      const r = await c.req("GET", `/snapshots/${sid}`, { token: c.demo });
      return r.body.snapshot.status === "available";
    });
    await write(vol, pattern(1));
    const b = await backup(c.demo, { volume_id: vol, snapshot_id: sid });
    const shown = await waitBackup(c.demo, b, "available");
    assert.equal(shown.snapshot_id, sid);
    const r = await c.req("POST", `/backups/${b}/restore`, { token: c.demo, body: { restore: {} } });
    await c.waitStatus(c.demo, r.body.restore.volume_id, "available");
    const want = pattern(3);
    want.fill(9, 2 * CHUNK, 3 * CHUNK);
    assert.ok((await read(r.body.restore.volume_id)).equals(want), "the snapshot's data, not the volume's");
    const snap = await c.req("GET", `/snapshots/${sid}`, { token: c.demo });
    assert.equal(snap.body.snapshot.status, "available");
  });

  it("lists, details, filters, sorts and pages backups", async () => {
    const all = await c.req("GET", "/backups/detail?volume_id=" + vol, { token: c.demo, mv: "3.45" });
    assert.equal(all.status, 200);
    assert.ok(all.body.backups.length >= 3);
    assert.ok(all.body.backups.every((b: any) => b.volume_id === vol));
    const summary = await c.req("GET", "/backups?name=full", { token: c.demo });
    assert.deepEqual(
      summary.body.backups.map((b: any) => b.id),
      [full],
    );
    assert.deepEqual(Object.keys(summary.body.backups[0]).sort(), ["id", "links", "name"]);
    const p1 = await c.req("GET", "/backups?limit=1&sort=name:asc&with_count=true", {
      token: c.demo,
      mv: "3.45",
    });
    assert.equal(p1.body.backups.length, 1);
    assert.ok(p1.body.count >= 3);
    assert.match(p1.body.backups_links[0].href, /marker=/);
    const next = new URL(p1.body.backups_links[0].href);
    const p2 = await c.req("GET", `/backups?${next.searchParams.toString()}`, { token: c.demo });
    assert.notEqual(p2.body.backups[0].id, p1.body.backups[0].id);
    const bad = await c.req("GET", "/backups?sort=nope", { token: c.demo });
    assert.equal(bad.status, 400);
    const other = await c.req("GET", "/backups", { token: c.admin });
    assert.ok(
      !other.body.backups.some((b: any) => b.id === full),
      "another project's backups are not listed",
    );
    const everyone = await c.req("GET", "/backups?all_tenants=1", { token: c.admin });
    assert.ok(everyone.body.backups.some((b: any) => b.id === full));
  });

  it("updates a backup from 3.9 (metadata from 3.43)", async () => {
    const old = await c.req("PUT", `/backups/${full}`, {
      token: c.demo,
      body: { backup: { name: "x" } },
      mv: "3.8",
    });
    assert.equal(old.status, 404);
    const r = await c.req("PUT", `/backups/${full}`, {
      token: c.demo,
      body: { backup: { name: "renamed", metadata: { a: "b" } } },
      mv: "3.43",
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.backup.name, "renamed");
    const shown = await c.req("GET", `/backups/${full}`, { token: c.demo, mv: "3.43" });
    assert.deepEqual(shown.body.backup.metadata, { a: "b" });
    const empty = await c.req("PUT", `/backups/${full}`, { token: c.demo, body: { backup: {} }, mv: "3.9" });
    assert.equal(empty.status, 400);
  });

  it("answers Cinder's errors and policy for the admin actions", async () => {
    const missing = await c.req("GET", "/backups/00000000-0000-0000-0000-000000000000", { token: c.demo });
    assert.equal(missing.status, 404);
    assert.equal(
      missing.body.itemNotFound.message,
      "Backup 00000000-0000-0000-0000-000000000000 could not be found.",
    );
    const noVol = await c.req("POST", "/backups", { token: c.demo, body: { backup: {} } });
    assert.equal(noVol.status, 400);
    const badBody = await c.req("POST", "/backups", { token: c.demo, body: { nope: 1 } });
    assert.equal(badBody.status, 400);
    const reset = await c.req("POST", `/backups/${full}/action`, {
      token: c.demo,
      body: { "os-reset_status": { status: "error" } },
    });
    assert.equal(reset.status, 403);
    const badStatus = await c.req("POST", `/volume/v3/${c.adminProject}/backups/${full}/action`, {
      body: { "os-reset_status": { status: "creating" } },
    });
    assert.equal(badStatus.status, 400);
    const exp = await c.req("GET", `/backups/${full}/export_record`, { token: c.demo });
    assert.equal(exp.status, 403);
    const unknown = await c.req("POST", `/backups/${full}/action`, {
      token: c.demo,
      body: { "os-nope": {} },
    });
    assert.equal(unknown.status, 400);
  });

  it("exports a record, and imports it back after the backup's row is gone", async () => {
    const b = await backup(c.demo, { volume_id: vol, container: "mine" });
    await waitBackup(c.demo, b, "available");
    const exp = await c.req("GET", `/volume/v3/${c.adminProject}/backups/${b}/export_record`);
    assert.equal(exp.status, 200, exp.text);
    const rec = exp.body["backup-record"];
    assert.equal(rec.backup_service, "cinder.backup.drivers.fake");
    // The row goes, the objects stay (as after a database loss): import brings the backup back.
    await c.t.cloud.db.kysely.deleteFrom("volume_backup").where("id", "=", b).execute();
    const dup = await c.req("POST", `/volume/v3/${c.adminProject}/backups/import_record`, {
      body: { "backup-record": { backup_service: "fake", backup_url: "not base64 json" } },
    });
    assert.equal(dup.status, 400);
    const imp = await c.req("POST", `/volume/v3/${c.adminProject}/backups/import_record`, {
      body: { "backup-record": rec },
    });
    assert.equal(imp.status, 201, imp.text);
    assert.equal(imp.body.backup.id, b);
    const again = await c.req("POST", `/volume/v3/${c.adminProject}/backups/import_record`, {
      body: { "backup-record": rec },
    });
    assert.equal(again.status, 400, "a backup already known");
    // As Cinder, the imported backup is the importing (admin) project's; it reads the objects where they are.
    assert.equal((await c.req("GET", `/backups/${b}`, { token: c.demo })).status, 404);
    const shown = await waitBackup(c.admin, b, "available");
    assert.equal(shown.container, "mine");
    const r = await c.req("POST", `/backups/${b}/restore`, { token: c.admin, body: { restore: {} } });
    assert.equal(r.status, 202, r.text);
    await c.waitStatus(c.admin, r.body.restore.volume_id, "available");
    assert.ok((await read(r.body.restore.volume_id)).equals(await read(vol)), "the imported backup restores");
  });

  it("imports an exported record under a new id (tempest's export/import): both find the same data", async () => {
    const b = await backup(c.demo, { volume_id: vol });
    await waitBackup(c.demo, b, "available");
    const exp = await c.req("GET", `/volume/v3/${c.adminProject}/backups/${b}/export_record`);
    const rec = exp.body["backup-record"];
    assert.match(rec.backup_service, /^cinder\.backup\.drivers\./);
    const fields = JSON.parse(Buffer.from(rec.backup_url, "base64").toString("utf8"));
    const newId = randomUUID();
    const url = Buffer.from(JSON.stringify({ ...fields, id: newId })).toString("base64");
    const imp = await c.req("POST", `/volume/v3/${c.adminProject}/backups/import_record`, {
      body: { "backup-record": { backup_service: rec.backup_service, backup_url: url } },
    });
    assert.equal(imp.status, 201, imp.text);
    assert.equal(imp.body.backup.id, newId);
    await waitBackup(c.admin, newId, "available");
    // Deleting the original keeps the data the imported record points at; the imported one still restores.
    assert.equal((await c.req("DELETE", `/backups/${b}`, { token: c.demo })).status, 202);
    await until("original backup gone", async () => {
      return (await c.req("GET", `/backups/${b}`, { token: c.demo })).status === 404;
    });
    const r = await c.req("POST", `/backups/${newId}/restore`, { token: c.admin, body: { restore: {} } });
    assert.equal(r.status, 202, r.text);
    await c.waitStatus(c.admin, r.body.restore.volume_id, "available");
    assert.ok((await read(r.body.restore.volume_id)).equals(await read(vol)), "the new id finds the data");
    assert.equal((await c.req("DELETE", `/backups/${newId}`, { token: c.admin })).status, 202);
    await until("imported backup gone", async () => {
      return (await c.req("GET", `/backups/${newId}`, { token: c.admin })).status === 404;
    });
  });

  it("enforces the backups and backup_gigabytes quotas and shows the usage", async () => {
    const used = await c.req("GET", "/limits", { token: c.demo });
    assert.ok(used.body.limits.absolute.totalBackupsUsed >= 4);
    const mine = await c.req("GET", "/backups/detail", { token: c.demo });
    const gb = mine.body.backups.reduce((n: number, b: any) => n + b.size, 0);
    assert.equal(used.body.limits.absolute.totalBackupsUsed, mine.body.backups.length);
    assert.equal(used.body.limits.absolute.totalBackupGigabytesUsed, gb);
    const q = await c.req("GET", `/os-quota-sets/${c.demoProject}?usage=true`, { token: c.demo });
    assert.equal(q.body.quota_set.backups.in_use, used.body.limits.absolute.totalBackupsUsed);
    const set = await c.req("PUT", `/volume/v3/${c.adminProject}/os-quota-sets/${c.demoProject}`, {
      body: { quota_set: { backups: used.body.limits.absolute.totalBackupsUsed } },
    });
    assert.equal(set.status, 200, set.text);
    const over = await c.req("POST", "/backups", { token: c.demo, body: { backup: { volume_id: vol } } });
    assert.equal(over.status, 413);
    assert.match(over.body.overLimit.message, /BackupLimitExceeded/);
    await c.req("PUT", `/volume/v3/${c.adminProject}/os-quota-sets/${c.demoProject}`, {
      body: { quota_set: { backups: 100, backup_gigabytes: 0 } },
    });
    const overGb = await c.req("POST", "/backups", { token: c.demo, body: { backup: { volume_id: vol } } });
    assert.equal(overGb.status, 413);
    assert.match(overGb.body.overLimit.message, /VolumeBackupSizeExceedsAvailableQuota/);
    await c.req("DELETE", `/volume/v3/${c.adminProject}/os-quota-sets/${c.demoProject}`);
    const vs = await c.req("GET", `/volumes/${vol}`, { token: c.demo });
    assert.equal(vs.body.volume.status, "available", "a refused backup leaves the volume as it was");
  });

  it("sets a failed backup to error with its reason, and gives the volume back", async () => {
    const driver = c.t.cloud.volume.localAgent!.backups!.driver as any;
    driver.store.failNextPut = true;
    const b = await backup(c.demo, { volume_id: vol });
    const shown = await waitBackup(c.demo, b, "error");
    assert.match(shown.fail_reason, /injected/);
    await c.waitStatus(c.demo, vol, "available");
    const del = await c.req("DELETE", `/backups/${b}`, { token: c.demo });
    assert.equal(del.status, 202);
    await until(
      "backup gone",
      async () => (await c.req("GET", `/backups/${b}`, { token: c.demo })).status === 404,
    );
  });

  it("deletes backups newest first, force-deletes as admin, and lets a volume with backups be deleted", async () => {
    const d = await c.req("DELETE", `/backups/${incr}`, { token: c.demo });
    assert.equal(d.status, 202);
    await until(
      "incremental gone",
      async () => (await c.req("GET", `/backups/${incr}`, { token: c.demo })).status === 404,
    );
    const forceAsMember = await c.req("POST", `/backups/${full}/action`, {
      token: c.demo,
      body: { "os-force_delete": {} },
    });
    assert.equal(forceAsMember.status, 403);
    const del = await c.req("DELETE", `/volumes/${vol}?cascade=true`, { token: c.demo });
    assert.equal(del.status, 202, "a volume with backups may be deleted");
    await c.waitGone(c.demo, vol);
    const force = await c.req("POST", `/volume/v3/${c.adminProject}/backups/${full}/action`, {
      body: { "os-force_delete": {} },
    });
    assert.equal(force.status, 202, force.text);
    await until(
      "full gone",
      async () => (await c.req("GET", `/backups/${full}`, { token: c.demo })).status === 404,
    );
  });
});

// Volumes follow a moving server (fake driver, two hosts, the fake block storage REST service): a cold migration
// gives each attachment the destination host's connector (a revert gives it back); a live migration makes a second
// attachment for the destination and deletes the source's after success, or the destination's after a failure.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootActions, type ActionCloud } from "../actions/util.js";
import type { FakeDriver } from "../../../src/compute/drivers/fake.js";
import { VolumeClient } from "../../../src/compute/volume-client.js";
import { until } from "../../helpers/wait.js";
import { listBdms } from "../../../src/compute/volumes/bdm-store.js";
import { FakeVolumeService } from "./fake-volume-service.js";

let c: ActionCloud;
let cinder: FakeVolumeService;
let demoProject = "";

const driverOf = (host: string) =>
  c.t.cloud.computeControl.agents.find((a) => a.host === host)!.deps.driver as FakeDriver;
/** The volume ids the fake driver of `host` has plugged into server `id`. */
const volumesOn = (host: string, id: string) =>
  driverOf(host)
    .volumesOf(id)
    .map((v) => v.volumeId);
const other = (host: string) => c.t.cloud.computeControl.agents.find((a) => a.host !== host)!.host;

before(async () => {
  c = await bootActions({ compute: { hosts: 2 } });
  cinder = new FakeVolumeService();
  c.t.cloud.compute.core.connectVolume(new VolumeClient(cinder));
  demoProject = await c.t.projectId("demo");
});

after(async () => {
  await c?.close();
});

/** An ACTIVE server with one attached volume. */
async function withVolume() {
  const id = await c.createServer(c.demo);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const vol = cinder.add(demoProject);
  const r = await c.req("POST", `/v2.1/servers/${id}/os-volume_attachments`, {
    token: c.demo,
    body: { volumeAttachment: { volumeId: vol.id } },
  });
  assert.equal(r.status, 200, r.text);
  const host = (await c.row(id)).host as string;
  const att = () => [...cinder.attachments.values()].find((a) => a.volumeId === vol.id)!;
  return { id, vol, host, att };
}

test("cold migration: the destination gets the volume with its own connector; revert gives it back", async () => {
  const { id, vol, host, att } = await withVolume();
  const dest = other(host);
  assert.equal((await c.act(c.admin, id, { migrate: { host: dest } }, "2.56")).status, 202);
  await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  assert.equal(att().connector?.host, dest);
  assert.deepEqual(volumesOn(dest, id), [vol.id]);
  assert.equal((await c.act(c.demo, id, { revertResize: null })).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await c.row(id)).host, host);
  assert.equal(att().connector?.host, host);
  assert.deepEqual(volumesOn(host, id), [vol.id]);
  assert.equal(vol.status, "in-use");
});

/** The attachment id the server's volume mapping names. */
const bdmAttachment = async (id: string) =>
  (await listBdms(c.t.cloud.db.kysely, id)).find((b) => b.volumeId)?.attachmentId;

test("live migration: a new attachment for the destination, the source's deleted after success", async () => {
  const { id, vol, host, att } = await withVolume();
  const dest = other(host);
  const before = att().id;
  const r = await c.act(c.admin, id, { "os-migrateLive": { host: dest, block_migration: "auto" } }, "2.30");
  assert.equal(r.status, 202, r.text);
  await c.settle(id, "active");
  assert.equal((await c.row(id)).host, dest);
  const now = [...cinder.attachments.values()].filter((a) => a.volumeId === vol.id);
  assert.equal(now.length, 1, "only the destination's attachment is left");
  assert.notEqual(now[0]!.id, before);
  assert.equal(now[0]!.connector?.host, dest);
  assert.equal(now[0]!.status, "attached");
  assert.equal(await bdmAttachment(id), now[0]!.id);
  assert.equal(vol.status, "in-use");
  assert.deepEqual(volumesOn(dest, id), [vol.id]);
});

test("a failed live migration deletes the destination's attachment and keeps the source's", async () => {
  const { id, vol, host, att } = await withVolume();
  const dest = other(host);
  const before = att().id;
  const src = driverOf(host) as { liveMigration?: (...a: unknown[]) => Promise<void> };
  const saved = src.liveMigration!;
  let during: string[] = [];
  src.liveMigration = async () => {
    during = [...cinder.attachments.values()].filter((a) => a.volumeId === vol.id).map((a) => a.id);
    throw new Error("memory copy did not converge");
  };
  try {
    const r = await c.act(c.admin, id, { "os-migrateLive": { host: dest, block_migration: "auto" } }, "2.30");
    assert.equal(r.status, 202, r.text);
    await until("the migration to fail", async () =>
      (await c.row(id)).task_state === null ? true : undefined,
    );
  } finally {
    src.liveMigration = saved;
  }
  assert.equal((await c.row(id)).host, host);
  assert.equal(during.length, 2, "both attachments exist during the migration");
  assert.equal(during[0], before);
  const now = [...cinder.attachments.values()].filter((a) => a.volumeId === vol.id);
  assert.deepEqual(
    now.map((a) => [a.id, a.connector?.host, a.status]),
    [[before, host, "attached"]],
  );
  assert.equal(await bdmAttachment(id), before);
  assert.equal(vol.status, "in-use");
  assert.deepEqual(volumesOn(host, id), [vol.id]);
});

// Volumes follow a moving server (fake driver, two hosts, the fake block storage REST service): a cold migration
// and a live migration give each attachment the destination host's connector, and the destination's guest has the
// volume; a revert gives it back to the source.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootActions, type ActionCloud } from "../actions/util.js";
import type { FakeDriver } from "../../../src/compute/drivers/fake.js";
import { VolumeClient } from "../../../src/compute/volume-client.js";
import { FakeVolumeService } from "./fake-volume-service.js";

let c: ActionCloud;
let cinder: FakeVolumeService;
let demoProject = "";

const driverOf = (host: string) =>
  c.t.cloud.computeControl.agents.find((a) => a.host === host)!.deps.driver as FakeDriver;
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
  assert.deepEqual(
    driverOf(dest)
      .volumesOf(id)
      .map((v) => v.volumeId),
    [vol.id],
  );
  assert.equal((await c.act(c.demo, id, { revertResize: null })).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await c.row(id)).host, host);
  assert.equal(att().connector?.host, host);
  assert.deepEqual(
    driverOf(host)
      .volumesOf(id)
      .map((v) => v.volumeId),
    [vol.id],
  );
  assert.equal(vol.status, "in-use");
});

test("live migration: the volume goes along, connected to the destination", async () => {
  const { id, vol, host, att } = await withVolume();
  const dest = other(host);
  const r = await c.act(c.admin, id, { "os-migrateLive": { host: dest, block_migration: "auto" } }, "2.30");
  assert.equal(r.status, 202, r.text);
  await c.settle(id, "active");
  assert.equal((await c.row(id)).host, dest);
  assert.equal(att().connector?.host, dest);
  assert.deepEqual(
    driverOf(dest)
      .volumesOf(id)
      .map((v) => v.volumeId),
    [vol.id],
  );
});

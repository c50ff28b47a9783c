// Volume transfers between projects through both collections (os-volume-transfer, volume-transfers 3.55): the
// key is answered once and stored only as a salted hash; accept moves the volume (and its snapshots unless
// no_snapshots) under the receiver's quotas; Cinder's views and errors.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

let c: VolumeCloud;
let recv: string;
let recvProject: string;

/** A member token of a new project. */
async function memberOfNewProject(name: string): Promise<[string, string]> {
  const t = c.t;
  const project = (await t.createProject(name)).id as string;
  const user = (await t.createUser(`${name}-user`, "Passw0rd-xfer")).id as string;
  const role = await t.roleId("member");
  const g = await t.req("PUT", `/v3/projects/${project}/users/${user}/roles/${role}`, {
    token: await t.adminToken(),
  });
  assert.equal(g.status, 204);
  return [await t.token(`${name}-user`, "Passw0rd-xfer", { project: { id: project } }), project];
}

before(async () => {
  c = await bootVolume();
  [recv, recvProject] = await memberOfNewProject("receiver");
});
after(() => c?.close());

const snapshot = async (token: string, volumeId: string) => {
  const r = await c.req("POST", "/snapshots", { token, body: { snapshot: { volume_id: volumeId } } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.snapshot.id as string;
  await until("snapshot available", async () => {
    const s = await c.req("GET", `/snapshots/${id}`, { token });
    return s.body.snapshot.status === "available";
  });
  return id;
};

const usage = async (token: string, project: string) =>
  (await c.req("GET", `/os-quota-sets/${project}?usage=true`, { token, project })).body.quota_set;

describe("block storage: volume transfers", () => {
  it("transfers a volume with its snapshots to another project (os-volume-transfer)", async () => {
    const vol = await c.create(c.demo, { size: 2, name: "moving" });
    await c.waitStatus(c.demo, vol, "available");
    const snap = await snapshot(c.demo, vol);
    const before = await usage(c.demo, c.demoProject);
    const r = await c.req("POST", "/os-volume-transfer", {
      token: c.demo,
      body: { transfer: { volume_id: vol, name: "to-receiver" } },
    });
    assert.equal(r.status, 202, r.text);
    const t = r.body.transfer;
    assert.match(t.auth_key, /^[A-Za-z0-9]{16}$/);
    assert.deepEqual(Object.keys(t).sort(), ["auth_key", "created_at", "id", "links", "name", "volume_id"]);
    assert.equal(t.links[0].href.endsWith(`/os-volume-transfer/${t.id}`), true);
    // Only a salted hash is stored.
    const row = await c.t.cloud.volume.core.db
      .selectFrom("volume_transfer")
      .selectAll()
      .where("id", "=", t.id)
      .executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(row).includes(t.auth_key));
    assert.equal(
      (await c.req("GET", `/volumes/${vol}`, { token: c.demo })).body.volume.status,
      "awaiting-transfer",
    );
    // A second transfer of the same volume, or deleting it, is refused while one is pending.
    const again = await c.req("POST", "/os-volume-transfer", {
      token: c.demo,
      body: { transfer: { volume_id: vol } },
    });
    assert.equal(again.status, 400);
    assert.equal((await c.req("DELETE", `/volumes/${vol}`, { token: c.demo })).status, 400);
    // Show, list and detail (never the key again).
    const show = await c.req("GET", `/os-volume-transfer/${t.id}`, { token: c.demo });
    assert.equal(show.status, 200);
    assert.equal(show.body.transfer.auth_key, undefined);
    assert.equal(show.body.transfer.volume_id, vol);
    const list = await c.req("GET", "/os-volume-transfer", { token: c.demo });
    assert.deepEqual(Object.keys(list.body.transfers[0]).sort(), ["id", "links", "name", "volume_id"]);
    const detail = await c.req("GET", "/os-volume-transfer/detail", { token: c.demo, mv: "3.57" });
    const d = detail.body.transfers.find((x: any) => x.id === t.id);
    assert.equal(d.source_project_id, c.demoProject);
    assert.equal(d.no_snapshots, false);
    assert.equal(d.accepted, false);
    // The receiver cannot see it, and needs the right key.
    assert.equal(
      (await c.req("GET", `/os-volume-transfer/${t.id}`, { token: recv, project: recvProject })).status,
      404,
    );
    assert.equal(
      (await c.req("GET", "/os-volume-transfer", { token: recv, project: recvProject })).body.transfers
        .length,
      0,
    );
    const wrong = await c.req("POST", `/os-volume-transfer/${t.id}/accept`, {
      token: recv,
      project: recvProject,
      body: { accept: { auth_key: "0000000000000000" } },
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.badRequest.message, /invalid auth key/);
    const ok = await c.req("POST", `/os-volume-transfer/${t.id}/accept`, {
      token: recv,
      project: recvProject,
      body: { accept: { auth_key: t.auth_key } },
    });
    assert.equal(ok.status, 202, ok.text);
    assert.deepEqual(ok.body.transfer.volume_id, vol);
    // The volume and its snapshot are the receiver's now; the giver's usage is released.
    const moved = await c.req("GET", `/volumes/${vol}`, { token: recv, project: recvProject });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.volume.status, "available");
    assert.equal((await c.req("GET", `/volumes/${vol}`, { token: c.demo })).status, 404);
    assert.equal(
      (await c.req("GET", `/snapshots/${snap}`, { token: recv, project: recvProject })).status,
      200,
    );
    const after = await usage(c.demo, c.demoProject);
    assert.equal(after.volumes.in_use, before.volumes.in_use - 1);
    assert.equal(after.gigabytes.in_use, before.gigabytes.in_use - 4);
    const theirs = await usage(recv, recvProject);
    assert.equal(theirs.volumes.in_use, 1);
    assert.equal(theirs.snapshots.in_use, 1);
    // The transfer is gone: a second accept is 404.
    const twice = await c.req("POST", `/os-volume-transfer/${t.id}/accept`, {
      token: recv,
      project: recvProject,
      body: { accept: { auth_key: t.auth_key } },
    });
    assert.equal(twice.status, 404);
    assert.equal(twice.body.itemNotFound.message, `Transfer ${t.id} could not be found.`);
  });

  it("volume-transfers (3.55+) leaves the snapshots with no_snapshots, and cancels", async () => {
    const vol = await c.create(c.demo);
    await c.waitStatus(c.demo, vol, "available");
    const snap = await snapshot(c.demo, vol);
    const body = { transfer: { volume_id: vol, no_snapshots: true } };
    assert.equal((await c.req("POST", "/volume-transfers", { token: c.demo, body, mv: "3.54" })).status, 404);
    // The old collection takes no no_snapshots.
    assert.equal(
      (await c.req("POST", "/os-volume-transfer", { token: c.demo, body, mv: "3.55" })).status,
      400,
    );
    // Cancel: the volume is available again.
    const first = await c.req("POST", "/volume-transfers", { token: c.demo, body, mv: "3.55" });
    assert.equal(first.status, 202, first.text);
    assert.equal(first.body.transfer.no_snapshots, true);
    const del = await c.req("DELETE", `/volume-transfers/${first.body.transfer.id}`, {
      token: c.demo,
      mv: "3.55",
    });
    assert.equal(del.status, 202);
    await c.waitStatus(c.demo, vol, "available");
    const t = (await c.req("POST", "/volume-transfers", { token: c.demo, body, mv: "3.55" })).body.transfer;
    const ok = await c.req("POST", `/volume-transfers/${t.id}/accept`, {
      token: recv,
      project: recvProject,
      mv: "3.55",
      body: { accept: { auth_key: t.auth_key } },
    });
    assert.equal(ok.status, 202, ok.text);
    assert.equal((await c.req("GET", `/volumes/${vol}`, { token: recv, project: recvProject })).status, 200);
    assert.equal((await c.req("GET", `/snapshots/${snap}`, { token: c.demo })).status, 200);
    assert.equal(
      (await c.req("GET", `/snapshots/${snap}`, { token: recv, project: recvProject })).status,
      404,
    );
  });

  it("checks the receiver's quotas (also per type) under the lock and keeps the transfer when refused", async () => {
    const vol = await c.create(c.demo, { size: 3 });
    await c.waitStatus(c.demo, vol, "available");
    const t = (
      await c.req("POST", "/os-volume-transfer", { token: c.demo, body: { transfer: { volume_id: vol } } })
    ).body.transfer;
    const setQuota = (q: Record<string, number>) =>
      c.req("PUT", `/os-quota-sets/${recvProject}`, { body: { quota_set: q } });
    assert.equal((await setQuota({ gigabytes: 3 })).status, 200);
    const accept = () =>
      c.req("POST", `/os-volume-transfer/${t.id}/accept`, {
        token: recv,
        project: recvProject,
        body: { accept: { auth_key: t.auth_key } },
      });
    const over = await accept();
    assert.equal(over.status, 413, over.text);
    assert.match(over.body.overLimit.message, /gigabytes/);
    assert.equal((await setQuota({ gigabytes: -1, volumes___DEFAULT__: 0 })).status, 200);
    const typed = await accept();
    assert.equal(typed.status, 413);
    assert.match(typed.body.overLimit.message, /volumes___DEFAULT__/);
    assert.equal(
      (await c.req("GET", `/volumes/${vol}`, { token: c.demo })).body.volume.status,
      "awaiting-transfer",
    );
    assert.equal((await setQuota({ volumes___DEFAULT__: -1 })).status, 200);
    assert.equal((await accept()).status, 202);
  });

  it("refuses to transfer a volume of a generic group, at create and at accept (the group stays behind)", async () => {
    const MV = "3.70";
    const vt = await c.req("POST", "/types", { body: { volume_type: { name: "xfer-grp-vt" } } });
    assert.equal(vt.status, 200, vt.text);
    const gt = await c.req("POST", "/group_types", { mv: MV, body: { group_type: { name: "xfer-gt" } } });
    assert.equal(gt.status, 202, gt.text);
    const g = await c.req("POST", "/groups", {
      token: c.demo,
      mv: MV,
      body: { group: { group_type: gt.body.group_type.id, volume_types: [vt.body.volume_type.id] } },
    });
    assert.equal(g.status, 202, g.text);
    const group = g.body.group.id as string;
    const vol = await c.create(c.demo, { volume_type: vt.body.volume_type.id, group_id: group }, MV);
    await c.waitStatus(c.demo, vol, "available");
    for (const [path, mv] of [
      ["/os-volume-transfer", "3.0"],
      ["/volume-transfers", "3.55"],
    ]) {
      const r = await c.req("POST", path, { token: c.demo, mv, body: { transfer: { volume_id: vol } } });
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.badRequest.message, /must not be part of a group/);
    }
    const shown = (await c.req("GET", `/volumes/${vol}`, { token: c.demo, mv: MV })).body.volume;
    assert.equal(shown.status, "available");
    assert.equal(shown.group_id, group);
    // A transfer pending when the volume got into a group (made before this check, or a race) is refused at accept.
    const other = await c.create(c.demo, { volume_type: vt.body.volume_type.id }, MV);
    await c.waitStatus(c.demo, other, "available");
    const t = await c.req("POST", "/os-volume-transfer", {
      token: c.demo,
      body: { transfer: { volume_id: other } },
    });
    assert.equal(t.status, 202, t.text);
    await c.t.cloud.volume.core.db
      .updateTable("volume_volume")
      .set({ group_id: group })
      .where("id", "=", other)
      .execute();
    const acc = await c.req("POST", `/os-volume-transfer/${t.body.transfer.id}/accept`, {
      token: recv,
      project: recvProject,
      body: { accept: { auth_key: t.body.transfer.auth_key } },
    });
    assert.equal(acc.status, 400, acc.text);
    assert.match(acc.body.badRequest.message, /must not be part of a group/);
    const still = (await c.req("GET", `/volumes/${other}`, { token: c.demo, mv: MV })).body.volume;
    assert.equal(still.status, "awaiting-transfer");
    assert.equal(still.group_id, group);
    // Removed from the group, the volume transfers.
    const del = await c.req("DELETE", `/os-volume-transfer/${t.body.transfer.id}`, { token: c.demo });
    assert.equal(del.status, 202, del.text);
    const rm = await c.req("PUT", `/groups/${group}`, {
      token: c.demo,
      mv: MV,
      body: { group: { remove_volumes: other } },
    });
    assert.equal(rm.status, 202, rm.text);
    const t2 = await c.req("POST", "/os-volume-transfer", {
      token: c.demo,
      body: { transfer: { volume_id: other } },
    });
    assert.equal(t2.status, 202, t2.text);
    const acc2 = await c.req("POST", `/os-volume-transfer/${t2.body.transfer.id}/accept`, {
      token: recv,
      project: recvProject,
      body: { accept: { auth_key: t2.body.transfer.auth_key } },
    });
    assert.equal(acc2.status, 202, acc2.text);
    const moved = (await c.req("GET", `/volumes/${other}`, { token: recv, project: recvProject, mv: MV }))
      .body.volume;
    assert.equal(moved.group_id, null);
  });

  it("answers bad input with 4xx in Cinder's format", async () => {
    const post = (body: unknown) => c.req("POST", "/os-volume-transfer", { token: c.demo, body });
    assert.equal((await post({})).status, 400);
    assert.equal((await post({ transfer: {} })).status, 400);
    assert.equal((await post({ transfer: { volume_id: 5 } })).status, 400);
    const missing = await post({ transfer: { volume_id: "00000000-0000-0000-0000-000000000000" } });
    assert.equal(missing.status, 404);
    assert.ok(missing.body.itemNotFound);
    // Not the demo project's volume: the receiver cannot give it away.
    const vol = await c.create(c.demo);
    await c.waitStatus(c.demo, vol, "available");
    assert.equal(
      (
        await c.req("POST", "/os-volume-transfer", {
          token: recv,
          project: recvProject,
          body: { transfer: { volume_id: vol } },
        })
      ).status,
      404,
    );
    const accept = (body: unknown) =>
      c.req("POST", "/os-volume-transfer/nope/accept", { token: recv, project: recvProject, body });
    assert.equal((await accept({})).status, 400);
    assert.equal((await accept({ accept: {} })).status, 400);
    assert.equal((await accept({ accept: { auth_key: "x" } })).status, 404);
    assert.equal((await c.req("GET", "/os-volume-transfer?bogus=1", { token: c.demo })).status, 400);
    assert.equal((await c.req("DELETE", "/os-volume-transfer/nope", { token: c.demo })).status, 404);
  });
});

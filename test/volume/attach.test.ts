// Attachments as compute drives them (Nova's 3.44 flow): reserve, connector (export, connection_info), complete,
// delete (unexport); multiattach; the classic attach actions; extend of an in-use volume tells compute; snapshots
// of in-use volumes with force; revert to snapshot.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

let c: VolumeCloud;
before(async () => {
  c = await bootVolume();
});
after(() => c?.close());

const MV = "3.44";
const connector = {
  host: "host1",
  initiator: "iqn.1993-08.org.debian:01:abc",
  ip: "127.0.0.1",
  platform: "x86_64",
  os_type: "linux",
  multipath: false,
};

describe("block storage: attachments", () => {
  it("goes reserved -> attaching -> in-use -> available with connection info, as compute drives it", async () => {
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "available");
    const server = randomUUID();
    // Compute acts with a cloud admin's token, in its own project's URL, on the demo project's volume.
    const create = await c.req("POST", "/attachments", {
      mv: MV,
      body: { attachment: { volume_uuid: id, instance_uuid: server } },
    });
    assert.equal(create.status, 200, create.text);
    const att = create.body.attachment;
    assert.equal(att.status, "reserved");
    assert.equal(att.instance, server);
    assert.deepEqual(att.connection_info, {});
    assert.equal((await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.status, "reserved");
    const again = await c.req("POST", "/attachments", {
      mv: MV,
      body: { attachment: { volume_uuid: id, instance_uuid: randomUUID() } },
    });
    assert.equal(again.status, 400, "a reserved volume without multiattach cannot be reserved again");
    const upd = await c.req("PUT", `/attachments/${att.id}`, { mv: MV, body: { attachment: { connector } } });
    assert.equal(upd.status, 200, upd.text);
    const info = upd.body.attachment.connection_info;
    assert.equal(info.driver_volume_type, "iscsi");
    assert.equal(info.data.target_iqn, `iqn.2010-10.org.openstack:volume-${id}`);
    assert.equal(info.data.target_lun, 1);
    assert.equal(info.data.access_mode, "rw");
    assert.equal(info.data.attachment_id, att.id);
    assert.deepEqual(await c.transport("iscsi").exported(), [id]);
    assert.equal((await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.status, "attaching");
    const done = await c.req("POST", `/attachments/${att.id}/action`, {
      mv: MV,
      body: { "os-complete": null },
    });
    assert.equal(done.status, 204);
    const inUse = (await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume;
    assert.equal(inUse.status, "in-use");
    assert.equal(inUse.attachments.length, 1);
    assert.equal(inUse.attachments[0].server_id, server);
    assert.equal(inUse.attachments[0].attachment_id, att.id);
    assert.equal(inUse.attachments[0].host_name, "host1");
    const shown = await c.req("GET", `/attachments/${att.id}`, { token: c.demo, mv: MV });
    assert.equal(shown.body.attachment.status, "attached");
    const listed = await c.req("GET", `/attachments/detail?volume_id=${id}`, { token: c.demo, mv: MV });
    assert.equal(listed.body.attachments.length, 1);
    assert.equal((await c.req("GET", "/attachments", { token: c.demo, mv: "3.26" })).status, 404);
    const del = await c.req("DELETE", `/volumes/${id}`, { token: c.demo });
    assert.equal(del.status, 400, "an in-use volume cannot be deleted");
    // Extend while attached (3.42): compute hears volume-extended with the volume as tag.
    assert.equal(
      (
        await c.req("POST", `/volumes/${id}/action`, {
          token: c.demo,
          body: { "os-extend": { new_size: 2 } },
        })
      ).status,
      400,
    );
    const ext = await c.req("POST", `/volumes/${id}/action`, {
      token: c.demo,
      mv: "3.42",
      body: { "os-extend": { new_size: 2 } },
    });
    assert.equal(ext.status, 202);
    const grown = await c.waitStatus(c.demo, id, "in-use");
    assert.equal(grown.size, 2);
    const sent = c.t.cloud.volume.core.computeEvents.sent;
    assert.ok(sent.some((e) => e.name === "volume-extended" && e.server_uuid === server && e.tag === id));
    // A snapshot of an in-use volume needs force (before 3.66).
    const nf = await c.req("POST", "/snapshots", { token: c.demo, body: { snapshot: { volume_id: id } } });
    assert.equal(nf.status, 400);
    const f = await c.req("POST", "/snapshots", {
      token: c.demo,
      body: { snapshot: { volume_id: id, force: true } },
    });
    assert.equal(f.status, 202);
    const gone = await c.req("DELETE", `/attachments/${att.id}`, { mv: MV });
    assert.equal(gone.status, 200);
    assert.equal((await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.status, "available");
    assert.deepEqual(await c.transport("iscsi").exported(), [], "unexported with its last attachment");
  });

  it("lets a multiattach volume be attached twice and keeps the export while one remains", async () => {
    const t = await c.req("POST", "/types", {
      body: {
        volume_type: { name: "multi", extra_specs: { multiattach: "<is> True", "file:format": "qcow2" } },
      },
    });
    assert.equal(t.status, 200);
    const id = await c.create(c.demo, { volume_type: "multi" });
    const v = await c.waitStatus(c.demo, id, "available");
    assert.equal(v.multiattach, true);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const a = await c.req("POST", "/attachments", {
        mv: MV,
        body: { attachment: { volume_uuid: id, instance_uuid: randomUUID(), connector } },
      });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.body.attachment.connection_info.driver_volume_type, "nbd", "qcow2 volumes go over NBD");
      assert.equal(
        (
          await c.req("POST", `/attachments/${a.body.attachment.id}/action`, {
            mv: MV,
            body: { "os-complete": null },
          })
        ).status,
        204,
      );
      ids.push(a.body.attachment.id);
    }
    assert.equal((await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.attachments.length, 2);
    await c.req("DELETE", `/attachments/${ids[0]}`, { mv: MV });
    assert.equal((await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.status, "in-use");
    assert.deepEqual(await c.transport("nbd").exported(), [id]);
    await c.req("DELETE", `/attachments/${ids[1]}`, { mv: MV });
    assert.equal((await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.status, "available");
    assert.deepEqual(await c.transport("nbd").exported(), []);
  });

  it("as Cinder: an in-use multiattach volume is reserved again, one instance may hold two attachments, retype keeps multiattach while in use", async () => {
    const t = await c.req("POST", "/types", {
      body: { volume_type: { name: "multi2", extra_specs: { multiattach: "<is> True" } } },
    });
    assert.equal(t.status, 200);
    const status = async (id: string) =>
      (await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.status;
    const attachTo = (id: string, server: string) =>
      c.req("POST", "/attachments", {
        mv: MV,
        body: { attachment: { volume_uuid: id, instance_uuid: server } },
      });
    const complete = async (attachment: string) => {
      assert.equal(
        (await c.req("PUT", `/attachments/${attachment}`, { mv: MV, body: { attachment: { connector } } }))
          .status,
        200,
      );
      assert.equal(
        (await c.req("POST", `/attachments/${attachment}/action`, { mv: MV, body: { "os-complete": null } }))
          .status,
        204,
      );
    };
    const id = await c.create(c.demo, { volume_type: "multi2" });
    await c.waitStatus(c.demo, id, "available");
    const first = await attachTo(id, randomUUID());
    await complete(first.body.attachment.id);
    assert.equal(await status(id), "in-use");
    const second = await attachTo(id, randomUUID());
    assert.equal(second.status, 200, second.text);
    assert.equal(await status(id), "reserved", "reserved again until the new attachment completes");
    const third = await attachTo(id, randomUUID());
    assert.equal(third.status, 400, "a reserved volume takes no other reservation (as Cinder)");
    await complete(second.body.attachment.id);
    assert.equal(await status(id), "in-use");
    const retype = await c.req("POST", `/volumes/${id}/action`, {
      token: c.demo,
      body: { "os-retype": { new_type: "__DEFAULT__" } },
    });
    assert.equal(retype.status, 400, "an in-use volume keeps its multiattach");
    for (const a of [first, second])
      await c.req("DELETE", `/attachments/${a.body.attachment.id}`, { mv: MV });
    assert.equal(await status(id), "available");

    // A volume without multiattach: a second attachment only for the instance it is attached to (a move's).
    const plain = await c.create(c.demo);
    await c.waitStatus(c.demo, plain, "available");
    const server = randomUUID();
    const a1 = await attachTo(plain, server);
    await complete(a1.body.attachment.id);
    assert.equal((await attachTo(plain, randomUUID())).status, 400);
    const a2 = await attachTo(plain, server);
    assert.equal(a2.status, 200, a2.text);
    assert.equal(await status(plain), "in-use");
    await c.req("DELETE", `/attachments/${a1.body.attachment.id}`, { mv: MV });
    assert.equal(await status(plain), "reserved", "the move's attachment remains");
    await c.req("DELETE", `/attachments/${a2.body.attachment.id}`, { mv: MV });
    assert.equal(await status(plain), "available");
  });

  it("supports the classic attach actions", async () => {
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "available");
    const act = (body: unknown) => c.req("POST", `/volumes/${id}/action`, { token: c.demo, body });
    const status = async () => (await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.status;
    assert.equal((await act({ "os-reserve": null })).status, 202);
    assert.equal(await status(), "attaching");
    const init = await act({ "os-initialize_connection": { connector } });
    assert.equal(init.status, 200);
    assert.equal(init.body.connection_info.driver_volume_type, "iscsi");
    const server = randomUUID();
    assert.equal(
      (await act({ "os-attach": { instance_uuid: server, mountpoint: "/dev/vdb", mode: "rw" } })).status,
      202,
    );
    assert.equal(await status(), "in-use");
    assert.equal(
      (await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.attachments[0].device,
      "/dev/vdb",
    );
    assert.equal((await act({ "os-begin_detaching": null })).status, 202);
    assert.equal(await status(), "detaching");
    assert.equal((await act({ "os-roll_detaching": null })).status, 202);
    assert.equal(await status(), "in-use");
    assert.equal((await act({ "os-begin_detaching": null })).status, 202);
    assert.equal((await act({ "os-detach": {} })).status, 202);
    assert.equal((await act({ "os-terminate_connection": { connector } })).status, 202);
    assert.equal(await status(), "available");
    assert.equal((await act({ "os-reserve": null })).status, 202);
    assert.equal((await act({ "os-unreserve": null })).status, 202);
    assert.equal(await status(), "available");
  });

  it("reverts a volume to its latest snapshot (3.40)", async () => {
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "available");
    const s = await c.req("POST", "/snapshots", { token: c.demo, body: { snapshot: { volume_id: id } } });
    const sid = s.body.snapshot.id;
    await until(
      "snapshot available",
      async () =>
        (await c.req("GET", `/snapshots/${sid}`, { token: c.demo })).body.snapshot.status === "available",
    );
    assert.equal(
      (
        await c.req("POST", `/volumes/${id}/action`, {
          token: c.demo,
          body: { revert: { snapshot_id: sid } },
        })
      ).status,
      404,
    );
    const r = await c.req("POST", `/volumes/${id}/action`, {
      token: c.demo,
      mv: "3.40",
      body: { revert: { snapshot_id: sid } },
    });
    assert.equal(r.status, 202);
    await c.waitStatus(c.demo, id, "available");
    await until(
      "snapshot available again",
      async () =>
        (await c.req("GET", `/snapshots/${sid}`, { token: c.demo })).body.snapshot.status === "available",
    );
  });
});

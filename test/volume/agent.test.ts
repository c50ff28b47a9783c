// The volume agent and the admin side: failed creates leave nothing in the backend and record a user message;
// restart reconciliation (stuck creating -> error, exports restored, orphans removed); no valid backend; types
// with extra specs and access lists; QoS specs; services, pools and zones.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { VolumeAgent } from "../../src/volume/agent/agent.js";
import { nowIso } from "../../src/shared/db/index.js";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

let c: VolumeCloud;
before(async () => {
  c = await bootVolume({ volume: { backend: "fake", fakeCapacityGb: 100 } });
});
after(() => c?.close());

describe("block storage: agent", () => {
  it("rolls back a failed create and records a user message (3.3)", async () => {
    c.backend().failures.add("create");
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "error");
    assert.ok(!(await c.backend().list()).includes(id));
    const msgs = await c.req("GET", "/messages", { token: c.demo, mv: "3.3" });
    const m = msgs.body.messages.find((x: any) => x.resource_uuid === id);
    assert.ok(m, "a message about the volume");
    assert.equal(m.resource_type, "VOLUME");
    assert.equal((await c.req("GET", `/messages/${m.id}`, { token: c.demo, mv: "3.3" })).status, 200);
    assert.equal((await c.req("DELETE", `/messages/${m.id}`, { token: c.demo, mv: "3.3" })).status, 204);
    assert.equal((await c.req("GET", "/messages", { token: c.demo })).status, 404, "messages need 3.3");
    // Made by the backend, then failed while writing: removed too (a from-image create).
    assert.equal((await c.req("DELETE", `/volumes/${id}`, { token: c.demo })).status, 202);
    await c.waitGone(c.demo, id);
  });

  it("removes a half-made volume when the image write fails", async () => {
    const imageId = await c.image(c.demo, Buffer.alloc(512));
    c.backend().failures.add("writeImage");
    const id = await c.create(c.demo, { imageRef: imageId });
    await c.waitStatus(c.demo, id, "error");
    assert.ok(!(await c.backend().list()).includes(id), "nothing left in the backend");
  });

  it("sets a volume error with a message when no backend has room", async () => {
    const r = await c.req("POST", "/volumes", { token: c.admin, body: { volume: { size: 500 } } });
    assert.equal(r.status, 202);
    await c.waitStatus(c.admin, r.body.volume.id, "error");
    const msgs = await c.req("GET", "/messages", { mv: "3.3" });
    assert.ok(
      msgs.body.messages.some(
        (m: any) => m.resource_uuid === r.body.volume.id && /No valid backend/.test(m.user_message),
      ),
    );
  });

  it("reconciles at restart: stuck creates fail, exports are restored, orphans removed", async () => {
    const attached = await c.create(c.demo);
    await c.waitStatus(c.demo, attached, "available");
    const a = await c.req("POST", "/attachments", {
      mv: "3.44",
      body: { attachment: { volume_uuid: attached, instance_uuid: randomUUID(), connector: { host: "h" } } },
    });
    assert.equal(a.status, 200);
    const core = c.t.cloud.volume.core;
    const agent = c.t.cloud.volume.localAgent!;
    const backend = c.backend();
    const transports = (agent as any).o.transports;
    await agent.close();
    // A create the agent never finished, and a backend volume no row knows.
    const stuck = randomUUID();
    const now = nowIso();
    await core.db
      .insertInto("volume_volume")
      .values({
        id: stuck,
        project_id: c.demoProject,
        user_id: "u",
        name: "stuck",
        description: null,
        size: 1,
        status: "creating",
        attach_status: "detached",
        availability_zone: "nova",
        volume_type_id: null,
        snapshot_id: null,
        source_volid: null,
        image_id: null,
        bootable: 0,
        readonly: 0,
        multiattach: 0,
        metadata: "{}",
        image_metadata: "{}",
        host: "host1@fake#fake",
        location: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await backend.create({ id: stuck, sizeGb: 1 });
    const orphan = randomUUID();
    await backend.create({ id: orphan, sizeGb: 1 });
    await transports.get("iscsi").unexport(attached);
    const restarted = await VolumeAgent.start({
      core,
      bus: c.t.cloud.bus,
      host: "host1",
      backend,
      transports,
      log: core.log,
    });
    (c.t.cloud.volume as any).agent = restarted;
    assert.equal((await c.req("GET", `/volumes/${stuck}`, { token: c.demo })).body.volume.status, "error");
    const ids = await backend.list();
    assert.ok(!ids.includes(stuck) && !ids.includes(orphan), "half-made and orphan volumes removed");
    assert.deepEqual(await transports.get("iscsi").exported(), [attached], "the export is restored");
    const last = c.transport("iscsi").restored.at(-1)!;
    assert.deepEqual(
      last.map((r) => r.volumeId),
      [attached],
    );
    // The restarted agent serves: a new volume becomes available.
    const fresh = await c.create(c.demo);
    await c.waitStatus(c.demo, fresh, "available");
  });
});

describe("block storage: types, QoS and admin", () => {
  it("manages types, extra specs and private type access", async () => {
    const t = await c.req("POST", "/types", {
      body: {
        volume_type: {
          name: "gold",
          description: "g",
          "os-volume-type-access:is_public": false,
          extra_specs: { "file:format": "raw" },
        },
      },
    });
    assert.equal(t.status, 200, t.text);
    const tid = t.body.volume_type.id;
    assert.equal(t.body.volume_type.is_public, false);
    assert.equal((await c.req("POST", "/types", { body: { volume_type: { name: "gold" } } })).status, 409);
    assert.equal(
      (await c.req("POST", "/types", { token: c.demo, body: { volume_type: { name: "x" } } })).status,
      403,
    );
    assert.equal(
      (await c.req("GET", `/types/${tid}`, { token: c.demo })).status,
      404,
      "private types are hidden",
    );
    const create = await c.req("POST", "/volumes", {
      token: c.demo,
      body: { volume: { size: 1, volume_type: "gold" } },
    });
    assert.equal(create.status, 404);
    assert.equal(
      (
        await c.req("POST", `/types/${tid}/action`, {
          body: { addProjectAccess: { project: c.demoProject } },
        })
      ).status,
      202,
    );
    const access = await c.req("GET", `/types/${tid}/os-volume-type-access`);
    assert.deepEqual(access.body.volume_type_access, [{ volume_type_id: tid, project_id: c.demoProject }]);
    assert.equal((await c.req("GET", `/types/${tid}`, { token: c.demo })).status, 200);
    const vid = await c.create(c.demo, { volume_type: "gold" });
    await c.waitStatus(c.demo, vid, "available");
    const E = `/types/${tid}/extra_specs`;
    assert.deepEqual((await c.req("POST", E, { body: { extra_specs: { k1: "v1" } } })).body, {
      extra_specs: { k1: "v1" },
    });
    assert.deepEqual((await c.req("GET", `${E}/k1`)).body, { k1: "v1" });
    assert.deepEqual((await c.req("PUT", `${E}/k1`, { body: { k1: "v2" } })).body, { k1: "v2" });
    assert.equal((await c.req("GET", E)).body.extra_specs.k1, "v2");
    assert.equal((await c.req("DELETE", `${E}/k1`)).status, 202);
    assert.equal((await c.req("GET", `${E}/k1`)).status, 404);
    assert.equal((await c.req("DELETE", `/types/${tid}`)).status, 400, "a type in use stays");
    assert.equal((await c.req("GET", "/types/default")).body.volume_type.name, "__DEFAULT__");
    const up = await c.req("PUT", `/types/${tid}`, { body: { volume_type: { description: "new" } } });
    assert.equal(up.body.volume_type.description, "new");
  });

  it("stores QoS specs and their associations", async () => {
    const q = await c.req("POST", "/qos-specs", {
      body: { qos_specs: { name: "fast", consumer: "front-end", read_iops_sec: "1000" } },
    });
    assert.equal(q.status, 200, q.text);
    const qid = q.body.qos_specs.id;
    assert.deepEqual(q.body.qos_specs.specs, { read_iops_sec: "1000" });
    const t = await c.req("POST", "/types", { body: { volume_type: { name: "qos-type" } } });
    const tid = t.body.volume_type.id;
    assert.equal((await c.req("GET", `/qos-specs/${qid}/associate?vol_type_id=${tid}`)).status, 202);
    assert.deepEqual((await c.req("GET", `/qos-specs/${qid}/associations`)).body.qos_associations, [
      { association_type: "volume_type", name: "qos-type", id: tid },
    ]);
    assert.equal((await c.req("DELETE", `/qos-specs/${qid}`)).status, 400);
    assert.equal((await c.req("GET", `/qos-specs/${qid}/disassociate?vol_type_id=${tid}`)).status, 202);
    assert.equal(
      (await c.req("PUT", `/qos-specs/${qid}`, { body: { qos_specs: { write_iops_sec: "5" } } })).status,
      200,
    );
    assert.equal(
      (await c.req("PUT", `/qos-specs/${qid}/delete_keys`, { body: { keys: ["read_iops_sec"] } })).status,
      202,
    );
    assert.deepEqual((await c.req("GET", `/qos-specs/${qid}`)).body.qos_specs.specs, { write_iops_sec: "5" });
    assert.equal((await c.req("GET", "/qos-specs", { token: c.demo })).status, 403);
    assert.equal((await c.req("DELETE", `/qos-specs/${qid}`)).status, 202);
  });

  it("lists services, pools and zones; disables a service", async () => {
    const s = await c.req("GET", "/os-services");
    assert.equal(s.status, 200);
    const vol = s.body.services.find((x: any) => x.binary === "cinder-volume");
    assert.equal(vol.host, "host1@fake");
    assert.equal(vol.state, "up");
    assert.equal(vol.status, "enabled");
    assert.ok(s.body.services.some((x: any) => x.binary === "cinder-scheduler"));
    assert.equal((await c.req("GET", "/os-services", { token: c.demo })).status, 403);
    const pools = await c.req("GET", "/scheduler-stats/get_pools?detail=true");
    assert.equal(pools.body.pools[0].name, "host1@fake#fake");
    assert.equal(pools.body.pools[0].capabilities.total_capacity_gb, 100);
    const az = await c.req("GET", "/os-availability-zone", { token: c.demo });
    assert.deepEqual(az.body.availabilityZoneInfo, [{ zoneName: "nova", zoneState: { available: true } }]);
    const off = await c.req("PUT", "/os-services/disable", {
      body: { host: "host1@fake", binary: "cinder-volume" },
    });
    assert.equal(off.status, 200);
    const r = await c.req("POST", "/volumes", { token: c.demo, body: { volume: { size: 1 } } });
    await c.waitStatus(c.demo, r.body.volume.id, "error");
    assert.equal(
      (await c.req("PUT", "/os-services/enable", { body: { host: "host1@fake", binary: "cinder-volume" } }))
        .status,
      200,
    );
    await until("a volume is made again", async () => {
      const id = await c.create(c.demo);
      return (await c.waitStatus(c.demo, id, "available")).id;
    });
  });
});

// Block storage end to end with real guests: the file backend, its iSCSI (tgtd, CHAP) and NBD
// (qemu-storage-daemon) exports, and the compute attach flow, all through the public APIs of one in-process cloud.
// Tempest's stamp pattern over both transports (mke2fs, mount, write on one guest; detach; read on another), an
// attached volume extended and seen grown in the guest, a server booted from a volume made from an image whose
// root volume outlives it, multiattach volumes on both guests at once (a qcow2 one over NBD; a raw one over iSCSI,
// one QEMU initiator session per guest, written with O_DIRECT on each guest and read with O_DIRECT on the other),
// and a cold resize of the volume-backed guest with its volumes attached. Two guests. Root, QEMU, tgt or
// qemu-storage-daemon missing fails under CI.
import { strict as assert } from "node:assert";
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { registerGuestImage } from "../../src/cloud/guest-image.js";
import { bootActions, type ActionCloud } from "../compute/actions/util.js";
import { until } from "../helpers/wait.js";
import { findInstanceRecord, skipWithoutVolumeInfra } from "../helpers/volume-infra.js";

const SKIP = skipWithoutVolumeInfra({ qemu: true });
const GUEST_MS = 300_000;
const VOL_MV = "volume 3.59";

describe("volumes in real guests over iSCSI and NBD", { skip: SKIP }, () => {
  let c: ActionCloud | undefined;
  let work = "";
  let key = "";
  let user = "cirros";
  let project = "";
  const servers: string[] = [];
  const volumes: string[] = [];

  /** A block storage API call in `proj` (default the demo project's). */
  const vol = async (method: string, path: string, body?: unknown, token = c!.demo, proj = project) => {
    const r = await c!.t.cloud.app.inject({
      method: method as "GET",
      url: `/volume/v3/${proj}${path}`,
      headers: {
        "x-auth-token": token,
        "openstack-api-version": VOL_MV,
        accept: "application/json",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    const text = r.payload;
    return { status: r.statusCode, text, body: text ? JSON.parse(text) : undefined };
  };
  const volumeStatus = async (id: string) => (await vol("GET", `/volumes/${id}`)).body.volume;
  const waitVolume = (id: string, status: string) =>
    until(`volume ${id} ${status}`, async () => {
      const v = await volumeStatus(id);
      if (v.status === "error") throw new Error(`volume ${id} went to error`);
      return v.status === status ? v : undefined;
    });

  const ssh = (vm: string, cmd: string, timeoutMs = GUEST_MS) => {
    const rec = findInstanceRecord(c!.t.dataDir, vm);
    assert.ok(rec, `no record of ${vm}`);
    const port = (JSON.parse(readFileSync(rec, "utf8")) as { sshPort: number }).sshPort;
    return until(
      `ssh ${cmd}`,
      () =>
        new Promise<string | undefined>((res) =>
          execFile(
            "ssh",
            [
              ...["-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
              ...["-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "BatchMode=yes"],
              ...["-p", String(port), `${user}@127.0.0.1`, cmd],
            ],
            { timeout: 60_000 },
            (err, stdout) => res(err ? undefined : stdout.trim()),
          ),
        ),
      timeoutMs,
      1000,
    );
  };
  /** The guest's disk whose serial is the volume's id. */
  const devOf = (vm: string, volumeId: string) =>
    ssh(
      vm,
      `for d in /sys/block/vd*; do [ "$(cat $d/serial)" = "${volumeId.slice(0, 20)}" ] && basename $d; done; true`,
    ).then((d) => {
      assert.match(d, /^vd[a-z]$/, `no disk with serial ${volumeId} in ${vm}`);
      return `/dev/${d}`;
    });
  const attach = async (vm: string, volumeId: string) => {
    const r = await c!.req("POST", `/v2.1/servers/${vm}/os-volume_attachments`, {
      token: c!.demo,
      mv: "2.79",
      body: { volumeAttachment: { volumeId } },
    });
    assert.equal(r.status, 200, r.text);
    await waitVolume(volumeId, "in-use");
  };
  const detach = async (vm: string, volumeId: string) => {
    const r = await c!.req("DELETE", `/v2.1/servers/${vm}/os-volume_attachments/${volumeId}`, {
      token: c!.demo,
    });
    assert.equal(r.status, 202, r.text);
    await waitVolume(volumeId, "available");
  };
  const createVolume = async (body: Record<string, unknown>) => {
    const r = await vol("POST", "/volumes", { volume: { size: 1, ...body } });
    assert.equal(r.status, 202, r.text);
    volumes.push(r.body.volume.id);
    return (await waitVolume(r.body.volume.id, "available")).id as string;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "stv-"));
    key = join(work, "key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    await chmod(key, 0o600);
    c = await bootActions({
      image: false,
      config: { volume: { backend: "file" } },
      compute: {
        driver: "qemu",
        syncPowerStateInterval: 2,
        qemu: { accel: "tcg", hostForwardSsh: true, guestImage: false, softRebootTimeout: 60 },
      },
    });
    project = await c.t.projectId("demo");
  });

  after(async () => {
    if (c) {
      for (const vm of servers) {
        await c.req("DELETE", `/v2.1/servers/${vm}`, { token: c.admin }).catch(() => undefined);
        await c.waitGone(c.admin, vm, GUEST_MS).catch(() => undefined);
      }
      for (const id of volumes) await vol("DELETE", `/volumes/${id}`).catch(() => undefined);
      await until("volumes deleted", async () => {
        for (const id of volumes) if ((await vol("GET", `/volumes/${id}`)).status !== 404) return undefined;
        return true;
      }).catch(() => undefined);
    }
    await c?.close();
    await rm(work, { recursive: true, force: true });
  });

  test("stamp over iSCSI and NBD across two guests, extend while attached, boot from volume", async () => {
    const cloud = c!;
    const publicUrl = cloud.t.cloud.cfg.publicUrl as string;
    const reg = await registerGuestImage({ imageUrl: `${publicUrl}/image`, token: async () => cloud.admin });
    user = reg.user;
    const fl = await cloud.req("POST", "/v2.1/flavors", {
      token: cloud.admin,
      body: { flavor: { name: "v1", ram: 256, vcpus: 1, disk: 1 } },
    });
    assert.equal(fl.status, 200, fl.text);
    const kp = await cloud.req("POST", "/v2.1/os-keypairs", {
      token: cloud.demo,
      body: { keypair: { name: "k", public_key: await readFile(`${key}.pub`, "utf8") } },
    });
    assert.equal(kp.status, 200, kp.text);

    // A raw volume type (exported over iSCSI); the default type makes qcow2 volumes (exported over NBD).
    const ty = await vol(
      "POST",
      "/types",
      { volume_type: { name: "raw", extra_specs: { "file:format": "raw" } } },
      cloud.admin,
      await cloud.t.projectId("admin"),
    );
    assert.equal(ty.status, 200, ty.text);
    const iscsiVol = await createVolume({ name: "vi", volume_type: "raw" });
    const nbdVol = await createVolume({ name: "vn" });

    const a = await cloud.createServer(cloud.demo, {
      name: "vol-a",
      imageRef: reg.directId,
      flavorRef: fl.body.flavor.id,
      key_name: "k",
    });
    servers.push(a);
    await cloud.waitStatus(cloud.demo, a, "ACTIVE", GUEST_MS);
    assert.equal(await ssh(a, "hostname"), "vol-a");

    // Attach both; the connection info names each transport; mke2fs, mount and a stamp on each.
    await attach(a, iscsiVol);
    await attach(a, nbdVol);
    const atts = (await vol("GET", "/attachments/detail", undefined, cloud.demo)).body.attachments as Array<{
      volume_id: string;
      connection_info: { driver_volume_type: string; data: Record<string, unknown> } | null;
    }>;
    const info = (id: string) => atts.find((x) => x.volume_id === id)?.connection_info;
    assert.equal(info(iscsiVol)?.driver_volume_type, "iscsi");
    assert.equal(info(iscsiVol)?.data.auth_method, "CHAP");
    assert.match(String(info(iscsiVol)?.data.target_iqn), /^iqn\.2010-10\.org\.openstack:volume-/);
    assert.equal(info(nbdVol)?.driver_volume_type, "nbd");
    const stamp = `stamp-${Date.now()}`;
    for (const [id, dir] of [
      [iscsiVol, "/mnt/i"],
      [nbdVol, "/mnt/n"],
    ] as const) {
      const dev = await devOf(a, id);
      assert.equal(
        await ssh(
          a,
          `sudo mke2fs -q -F ${dev} >/dev/null 2>&1 && sudo mkdir -p ${dir} && sudo mount ${dev} ${dir} && ` +
            `echo ${stamp} | sudo tee ${dir}/stamp >/dev/null && sudo umount ${dir} && echo ok`,
        ),
        "ok",
      );
    }

    // Extend the attached NBD volume: block storage grows it and tells compute; the guest sees 2 GiB.
    const nbdDev = await devOf(a, nbdVol);
    const ext = await vol("POST", `/volumes/${nbdVol}/action`, { "os-extend": { new_size: 2 } });
    assert.equal(ext.status, 202, ext.text);
    await waitVolume(nbdVol, "in-use");
    const twoGiB = String((2 * 1024 ** 3) / 512);
    await until(
      "the guest sees the grown volume",
      async () => ((await ssh(a, `cat /sys/block/${nbdDev.slice(5)}/size`)) === twoGiB ? true : undefined),
      GUEST_MS,
      1000,
    );

    // An in-use volume cannot be deleted.
    assert.equal((await vol("DELETE", `/volumes/${iscsiVol}`)).status, 400);
    await detach(a, iscsiVol);
    await detach(a, nbdVol);

    // Boot from a volume made from the disk image; its root volume is kept when the server goes.
    const bfv = await cloud.req("POST", "/v2.1/servers", {
      token: cloud.demo,
      mv: "2.79",
      body: {
        server: {
          name: "vol-b",
          imageRef: "",
          flavorRef: fl.body.flavor.id,
          key_name: "k",
          networks: "none",
          block_device_mapping_v2: [
            {
              boot_index: 0,
              uuid: reg.diskId,
              source_type: "image",
              destination_type: "volume",
              volume_size: 1,
              delete_on_termination: false,
            },
          ],
        },
      },
    });
    assert.equal(bfv.status, 202, bfv.text);
    const b = bfv.body.server.id as string;
    servers.push(b);
    await cloud.waitStatus(cloud.demo, b, "ACTIVE", GUEST_MS);
    const shown = (await cloud.req("GET", `/v2.1/servers/${b}`, { token: cloud.demo, mv: "2.79" })).body
      .server;
    assert.equal(shown.image, "");
    const rootVol = shown["os-extended-volumes:volumes_attached"][0].id as string;
    volumes.push(rootVol);
    assert.equal((await volumeStatus(rootVol)).bootable, "true");
    assert.equal(await ssh(b, "hostname"), "vol-b");

    // The second guest reads both stamps.
    await attach(b, iscsiVol);
    await attach(b, nbdVol);
    const readStamps = async () => {
      for (const [id, dir] of [
        [iscsiVol, "/mnt/i"],
        [nbdVol, "/mnt/n"],
      ] as const) {
        const dev = await devOf(b, id);
        assert.equal(
          await ssh(
            b,
            `sudo mkdir -p ${dir} && sudo mount ${dev} ${dir} && cat ${dir}/stamp && sudo umount ${dir}`,
          ),
          stamp,
        );
      }
    };
    await readStamps();

    // Multiattach: a volume of a multiattach type on both guests at once (from 2.60), plugged shareable
    // (share-rw), written on one and read on the other.
    const mty = await vol(
      "POST",
      "/types",
      { volume_type: { name: "multi", extra_specs: { multiattach: "<is> True" } } },
      cloud.admin,
      await cloud.t.projectId("admin"),
    );
    assert.equal(mty.status, 200, mty.text);
    const multiVol = await createVolume({ name: "vm", volume_type: "multi" });
    assert.equal((await volumeStatus(multiVol)).multiattach, true);
    const old = await cloud.req("POST", `/v2.1/servers/${a}/os-volume_attachments`, {
      token: cloud.demo,
      mv: "2.59",
      body: { volumeAttachment: { volumeId: multiVol } },
    });
    assert.equal(old.status, 400, old.text);
    await attach(a, multiVol);
    await attach(b, multiVol);
    assert.equal((await volumeStatus(multiVol)).attachments.length, 2);
    for (const vm of [a, b]) {
      const rec = JSON.parse(readFileSync(findInstanceRecord(cloud.t.dataDir, vm)!, "utf8")) as {
        volumes: Array<{ volumeId: string; source: { shared?: boolean } }>;
      };
      assert.equal(rec.volumes.find((v) => v.volumeId === multiVol)?.source.shared, true, vm);
    }
    const shared = `shared-${Date.now()}`;
    const multiA = await devOf(a, multiVol);
    assert.equal(await ssh(a, `echo ${shared} | sudo dd of=${multiA} conv=fsync 2>/dev/null; echo ok`), "ok");
    const readShared = async () =>
      ssh(
        b,
        `echo 3 | sudo tee /proc/sys/vm/drop_caches >/dev/null; ` +
          `sudo dd if=${await devOf(b, multiVol)} bs=${shared.length} count=1 2>/dev/null`,
      );
    assert.equal(await readShared(), shared);

    // Multiattach over iSCSI: a raw volume of a multiattach type on both guests at once, each QEMU logged in to the
    // volume's target with its own session; a block written with O_DIRECT on one guest is read with O_DIRECT (no
    // page cache) on the other, both ways.
    const mrty = await vol(
      "POST",
      "/types",
      {
        volume_type: { name: "multi-raw", extra_specs: { multiattach: "<is> True", "file:format": "raw" } },
      },
      cloud.admin,
      await cloud.t.projectId("admin"),
    );
    assert.equal(mrty.status, 200, mrty.text);
    const multiRaw = await createVolume({ name: "vmr", volume_type: "multi-raw" });
    assert.equal((await volumeStatus(multiRaw)).multiattach, true);
    await attach(a, multiRaw);
    await attach(b, multiRaw);
    const rawAtts = (await vol("GET", `/attachments/detail?volume_id=${multiRaw}`, undefined, cloud.demo))
      .body.attachments as Array<{
      instance: string;
      status: string;
      connection_info: { driver_volume_type: string };
    }>;
    assert.deepEqual(
      rawAtts.map((x) => [x.instance, x.status, x.connection_info.driver_volume_type]).sort(),
      [
        [a, "attached", "iscsi"],
        [b, "attached", "iscsi"],
      ].sort(),
    );
    assert.equal((await volumeStatus(multiRaw)).attachments.length, 2);
    for (const vm of [a, b]) {
      const rec = JSON.parse(readFileSync(findInstanceRecord(cloud.t.dataDir, vm)!, "utf8")) as {
        volumes: Array<{ volumeId: string; source: { shared?: boolean } }>;
      };
      assert.equal(rec.volumes.find((v) => v.volumeId === multiRaw)?.source.shared, true, vm);
    }
    /** Write `text` as the volume's first 512-byte block from `vm`, bypassing the page cache (O_DIRECT). */
    const writeDirect = async (vm: string, text: string) =>
      ssh(
        vm,
        `printf '%-512s' ${text} | sudo dd of=${await devOf(vm, multiRaw)} bs=512 count=1 ` +
          `iflag=fullblock oflag=direct 2>/dev/null && echo ok`,
      );
    /** The volume's first block as `vm` reads it with O_DIRECT, trailing padding dropped. */
    const readDirect = async (vm: string) =>
      (
        await ssh(vm, `sudo dd if=${await devOf(vm, multiRaw)} bs=512 count=1 iflag=direct 2>/dev/null; echo`)
      ).trim();
    const fromA = `raw-a-${Date.now()}`;
    assert.equal(await writeDirect(a, fromA), "ok");
    assert.equal(await readDirect(b), fromA);
    const fromB = `raw-b-${Date.now()}`;
    assert.equal(await writeDirect(b, fromB), "ok");
    assert.equal(await readDirect(a), fromB);

    // A cold resize of the volume-backed guest with volumes attached: it boots from its root volume again and
    // has every attachment (the stamps, and the shared volume still on both guests).
    const fl2 = await cloud.req("POST", "/v2.1/flavors", {
      token: cloud.admin,
      body: { flavor: { name: "v2", ram: 288, vcpus: 1, disk: 1 } },
    });
    assert.equal(fl2.status, 200, fl2.text);
    const rs = await cloud.act(cloud.demo, b, { resize: { flavorRef: fl2.body.flavor.id } });
    assert.equal(rs.status, 202, rs.text);
    await cloud.waitStatus(cloud.demo, b, "VERIFY_RESIZE", GUEST_MS);
    assert.equal((await cloud.act(cloud.demo, b, { confirmResize: null })).status, 204);
    await cloud.waitStatus(cloud.demo, b, "ACTIVE", GUEST_MS);
    const resized = (await cloud.req("GET", `/v2.1/servers/${b}`, { token: cloud.demo, mv: "2.79" })).body
      .server;
    assert.equal(resized.flavor.original_name, "v2");
    assert.deepEqual(
      resized["os-extended-volumes:volumes_attached"].map((v: { id: string }) => v.id).sort(),
      [rootVol, iscsiVol, nbdVol, multiVol, multiRaw].sort(),
    );
    assert.equal(await ssh(b, "hostname"), "vol-b");
    await readStamps();
    assert.equal(await readShared(), shared);
    // The resized guest logged in to the iSCSI target again; the other guest's session still writes.
    assert.equal(await readDirect(b), fromB);
    const again = `raw-a2-${Date.now()}`;
    assert.equal(await writeDirect(a, again), "ok");
    assert.equal(await readDirect(b), again);
    for (const id of [multiVol, multiRaw, iscsiVol, nbdVol]) {
      const r = await cloud.req("DELETE", `/v2.1/servers/${b}/os-volume_attachments/${id}`, {
        token: cloud.demo,
      });
      assert.equal(r.status, 202, r.text);
    }
    assert.equal((await volumeStatus(multiVol)).status, "in-use", "still on the other guest");
    assert.equal((await volumeStatus(multiRaw)).status, "in-use", "still on the other guest");
    // The guest that keeps the iSCSI volume still reads it after the other one logged out of the target.
    assert.equal(await readDirect(a), again);
    await detach(a, multiVol);
    await detach(a, multiRaw);
    // Detached from both: no export is left; then the volume is deleted.
    const exports = await cloud.t.cloud.volume.core.db
      .selectFrom("volume_export")
      .selectAll()
      .where("volume_id", "=", multiRaw)
      .execute();
    assert.deepEqual(exports, []);
    assert.equal((await vol("DELETE", `/volumes/${multiRaw}`)).status, 202);
    await until("the raw multiattach volume gone", async () =>
      (await vol("GET", `/volumes/${multiRaw}`)).status === 404 ? true : undefined,
    );
    for (const id of [iscsiVol, nbdVol]) await waitVolume(id, "available");

    // delete_on_termination=false: the root volume is available again once the server is gone.
    assert.equal((await cloud.req("DELETE", `/v2.1/servers/${b}`, { token: cloud.demo })).status, 204);
    await cloud.waitGone(cloud.demo, b, GUEST_MS);
    servers.splice(servers.indexOf(b), 1);
    await waitVolume(rootVol, "available");
  });
});

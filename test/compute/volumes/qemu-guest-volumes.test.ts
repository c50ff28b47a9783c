// A volume in a real guest through the compute API: the built-in guest image boots under the qemu driver (TCG) in
// an in-process cloud whose block storage is the fake REST service, handing out an NBD export of a
// qemu-storage-daemon this test starts. POST os-volume_attachments hot-plugs it: the guest sees /dev/vdb with the
// volume id as serial; data written survives detach and reattach; stop/start keeps it; a volume-extended event
// shows the guest the grown volume. One guest. QEMU or
// qemu-storage-daemon missing fails under CI.
import { strict as assert } from "node:assert";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { registerGuestImage } from "../../../src/cloud/guest-image.js";
import { qemuAvailable } from "../../../src/compute/drivers/qemu/process.js";
import { VolumeClient } from "../../../src/compute/volume-client.js";
import { QmpClient } from "../../../src/compute/drivers/qemu/qmp.js";
import { bootActions, type ActionCloud } from "../actions/util.js";
import { until } from "../../helpers/wait.js";
import { FakeVolumeService } from "./fake-volume-service.js";

const SKIP = qemuAvailable() || process.env.CI ? false : "qemu-system-x86_64 is not installed";
const GUEST_MS = 300_000;

/** Find instance.json of `uuid` under the cloud's data dir. */
function findRecord(dir: string, uuid: string): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === uuid && existsSync(join(p, "instance.json"))) return join(p, "instance.json");
      const r = findRecord(p, uuid);
      if (r) return r;
    }
  }
  return undefined;
}

describe("a volume in a real guest through os-volume_attachments", { skip: SKIP }, () => {
  let c: ActionCloud | undefined;
  let work = "";
  let key = "";
  let daemon: ChildProcess | undefined;
  const cinder = new FakeVolumeService();
  let vm = "";

  const ssh = (cmd: string, timeoutMs = GUEST_MS) => {
    const rec = findRecord(c!.t.dataDir, vm);
    const port = (JSON.parse(readFileSync(rec!, "utf8")) as { sshPort: number }).sshPort;
    return until(
      `ssh ${cmd}`,
      () =>
        new Promise<string | undefined>((res) =>
          execFile(
            "ssh",
            [
              ...["-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
              ...["-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "BatchMode=yes"],
              ...["-p", String(port), "cirros@127.0.0.1", cmd],
            ],
            { timeout: 30_000 },
            (err, stdout) => res(err ? undefined : stdout.trim()),
          ),
        ),
      timeoutMs,
      1000,
    );
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "stq-vol-"));
    key = join(work, "key");
    await new Promise<void>((res, rej) =>
      execFile("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key], (e) => (e ? rej(e) : res())),
    );
    await chmod(key, 0o600);
    c = await bootActions({
      image: false,
      compute: {
        driver: "qemu",
        syncPowerStateInterval: 2,
        qemu: { accel: "tcg", hostForwardSsh: true, guestImage: false, softRebootTimeout: 60 },
      },
    });
    c.t.cloud.compute.core.connectVolume(new VolumeClient(cinder));
  });

  after(async () => {
    if (c && vm) {
      await c.req("DELETE", `/v2.1/servers/${vm}`, { token: c.admin }).catch(() => undefined);
      await c.waitGone(c.admin, vm, GUEST_MS).catch(() => undefined);
    }
    await c?.close();
    daemon?.kill("SIGKILL");
    await rm(work, { recursive: true, force: true });
  });

  test("attach over NBD: /dev/vdb with the volume id as serial, data across detach/reattach and stop/start, volume-extended", async () => {
    const cloud = c!;
    const publicUrl = cloud.t.cloud.cfg.publicUrl as string;
    const reg = await registerGuestImage({ imageUrl: `${publicUrl}/image`, token: async () => cloud.admin });
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
    vm = await cloud.createServer(cloud.demo, {
      name: "vol-vm",
      imageRef: reg.directId,
      flavorRef: fl.body.flavor.id,
      key_name: "k",
    });
    await cloud.waitStatus(cloud.demo, vm, "ACTIVE", GUEST_MS);
    assert.equal(await ssh("hostname"), "vol-vm");

    // The block storage side: a 64 MiB raw file exported over NBD by qemu-storage-daemon.
    const volFile = join(work, "vol.raw");
    await writeFile(volFile, Buffer.alloc(0));
    await new Promise<void>((res, rej) =>
      execFile("truncate", ["-s", "64M", volFile], (e) => (e ? rej(e) : res())),
    );
    const sock = join(work, "nbd.sock");
    const qsdQmp = join(work, "qsd.qmp");
    const project = await cloud.t.projectId("demo");
    const vol = cinder.add(project, { size: 1 });
    daemon = spawn(
      "qemu-storage-daemon",
      [
        ...["--blockdev", `driver=file,node-name=f0,filename=${volFile}`],
        ...["--blockdev", "driver=raw,node-name=v0,file=f0"],
        ...["--nbd-server", `addr.type=unix,addr.path=${sock}`],
        ...["--export", `type=nbd,id=e0,node-name=v0,name=${vol.id},writable=on`],
        ...["--chardev", `socket,id=m0,path=${qsdQmp},server=on,wait=off`, "--monitor", "chardev=m0"],
      ],
      { stdio: "ignore" },
    );
    await until("the NBD socket", () => (existsSync(sock) ? true : undefined));
    cinder.connectionInfo = (v) => ({
      driver_volume_type: "nbd",
      data: { socket_path: sock, export_name: v.id, volume_id: v.id, access_mode: "rw" },
    });
    const attach = async () => {
      const r = await cloud.req("POST", `/v2.1/servers/${vm}/os-volume_attachments`, {
        token: cloud.demo,
        body: { volumeAttachment: { volumeId: vol.id } },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.volumeAttachment.device, "/dev/vdb");
    };
    await attach();
    assert.equal(vol.status, "in-use");
    const serial = vol.id.slice(0, 20);
    assert.equal(await ssh("cat /sys/block/vdb/serial"), serial);
    assert.equal(await ssh("cat /sys/block/vdb/size"), String((64 * 1024 * 1024) / 512));
    await ssh("echo stratus-volume-stamp | sudo dd of=/dev/vdb conv=fsync 2>/dev/null; echo ok");
    assert.match(await readFile(volFile, "latin1"), /stratus-volume-stamp/);

    const detach = await cloud.req("DELETE", `/v2.1/servers/${vm}/os-volume_attachments/${vol.id}`, {
      token: cloud.demo,
    });
    assert.equal(detach.status, 202, detach.text);
    assert.equal(vol.status, "available");
    assert.equal(await ssh("test -e /sys/block/vdb || echo gone"), "gone");

    await attach();
    const read = "sudo dd if=/dev/vdb bs=20 count=1 2>/dev/null";
    assert.equal(await ssh(read), "stratus-volume-stamp");

    // Stop/start: the new QEMU has the volume on its command line; the guest sees the same disk.
    assert.equal((await cloud.act(cloud.demo, vm, { "os-stop": null })).status, 202);
    await cloud.settle(vm, "stopped", GUEST_MS);
    assert.equal((await cloud.act(cloud.demo, vm, { "os-start": null })).status, 202);
    await cloud.settle(vm, "active", GUEST_MS);
    assert.equal(await ssh("cat /sys/block/vdb/serial"), serial);
    assert.equal(await ssh(read), "stratus-volume-stamp");

    // volume-extended: the storage side grows the volume (qemu-storage-daemon re-exports it: it cannot grow an
    // exported node), block storage tells compute, and the guest sees the new size.
    const qsd = await QmpClient.connect(qsdQmp);
    await qsd.execute("block-export-del" as never, { id: "e0", mode: "hard" } as never);
    await until("the export is gone", async () =>
      ((await qsd.execute("query-block-exports" as never)) as unknown[]).length === 0 ? true : undefined,
    );
    await qsd.execute("block_resize" as never, { "node-name": "v0", size: 96 * 1024 * 1024 } as never);
    await qsd.execute(
      "block-export-add" as never,
      { type: "nbd", id: "e0", "node-name": "v0", name: vol.id, writable: true } as never,
    );
    qsd.close();
    vol.size = 96 / 1024; // the fake's GiB figure: compute resizes to size * 1 GiB bytes
    const ev = await cloud.req("POST", "/v2.1/os-server-external-events", {
      token: cloud.admin,
      mv: "2.51",
      body: { events: [{ name: "volume-extended", server_uuid: vm, tag: vol.id }] },
    });
    assert.equal(ev.status, 200, ev.text);
    assert.equal(await ssh("cat /sys/block/vdb/size"), String((96 * 1024 * 1024) / 512));
    assert.equal(await ssh(read), "stratus-volume-stamp");
  });
});

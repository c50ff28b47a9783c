// The transports against their real daemons, with QEMU's own clients (qemu-io, qemu-img) as initiators:
// NBD through qemu-storage-daemon (qcow2 volumes: snapshots, clones and extends while exported go through the
// daemon), iSCSI through tgtd (raw volumes, CHAP). A client session stays open while the transport objects are
// dropped and recreated (the agent killed) and restore() runs: it keeps working. The daemons are killed -9 and
// restore() brings the same exports (same tid and CHAP) back. Everything started here is stopped at the end.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FileBackend } from "../../../src/volume/drivers/file.js";
import { NbdTransport } from "../../../src/volume/drivers/nbd.js";
import { createTransports } from "../../../src/volume/drivers/registry.js";
import { IQN_PREFIX, TgtTransport } from "../../../src/volume/drivers/tgt.js";
import { until } from "../../helpers/wait.js";
import { readPrefix } from "./contract.js";
import {
  freePort,
  iscsiImage,
  IoSession,
  nbdImage,
  qemuIo,
  SKIP_NBD,
  SKIP_TGT,
  virtualSize,
} from "./helpers.js";

const GiB = 1024 ** 3;
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function scratch(tag: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `stv-${tag}-`));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

test(
  "NBD: qemu-storage-daemon exports a qcow2 volume; snapshot, clone and extend while exported; restore",
  { skip: SKIP_NBD, timeout: 600_000 },
  async () => {
    const dir = await scratch("nbd");
    let nbd = new NbdTransport({ runDir: join(dir, "run") });
    cleanups.push(() => nbd.stop());
    const holders = () => [nbd];
    const b = new FileBackend({ dir: join(dir, "volumes"), holders });
    const id = randomUUID();
    const loc = await b.create({ id, sizeGb: 1 });
    const rec = await nbd.export(id, loc, { readOnly: false });
    assert.deepEqual(await nbd.export(id, loc, { readOnly: false }), rec);
    const info = nbd.connectionInfo(rec);
    assert.equal(info.driver_volume_type, "nbd");
    assert.ok(info.driver_volume_type === "nbd" && info.data.socket_path && info.data.export_name === id);
    const img = nbdImage(nbd.nbdSocket, id);
    assert.equal(virtualSize(img), GiB);
    assert.ok(await nbd.holds(id));
    assert.deepEqual(await nbd.exported(), [id]);

    // A client writes; the daemon is the only writer of the file (qemu-img without -U cannot open it).
    const io = new IoSession(img);
    cleanups.push(async () => io.close());
    assert.match(await io.cmd("write -P 0x5a 0 64k"), /wrote 65536\/65536/);

    // Snapshot while exported (through the daemon's QMP), then more writes; volumes from the snapshot and a clone.
    const sid = randomUUID();
    await b.createSnapshot(id, sid);
    assert.match(await io.cmd("write -P 0x33 0 64k"), /wrote 65536/);
    const fromSnap = randomUUID();
    await b.createFromSnapshot({ id: fromSnap, sizeGb: 1 }, sid);
    assert.deepEqual(await readPrefix(b, fromSnap, 65536), Buffer.alloc(65536, 0x5a));
    const cl = randomUUID();
    await b.clone({ id: cl, sizeGb: 1 }, id);
    assert.deepEqual(await readPrefix(b, cl, 65536), Buffer.alloc(65536, 0x33));
    // Reads of the in-use volume are point-in-time too.
    assert.deepEqual(await readPrefix(b, id, 65536), Buffer.alloc(65536, 0x33));
    await assert.rejects(b.revertToSnapshot(id, sid), /in use/);
    await assert.rejects(b.delete(id), /in use/);

    // Extend while exported: the daemon grows the node; a new NBD connection sees the new size.
    await b.extend(id, 2);
    assert.equal(virtualSize(img), 2 * GiB);

    // The agent "dies": a new transport object restores the same set; the daemon and other clients are untouched.
    const pid = nbd.pid();
    assert.ok(pid);
    nbd = new NbdTransport({ runDir: join(dir, "run") });
    await nbd.restore([rec]);
    assert.equal(nbd.pid(), pid);
    const io2 = new IoSession(img);
    cleanups.push(async () => io2.close());
    assert.match(await io2.cmd("read -P 0x33 0 64k"), /read 65536\/65536/);
    assert.match(await io2.cmd("write -P 0x44 128k 64k"), /wrote 65536/);

    // The daemon is killed -9: restore starts a new one with the export back.
    process.kill(pid, "SIGKILL");
    await until("the daemon to die", () => nbd.pid() === null);
    assert.deepEqual(await nbd.exported(), []);
    io.close();
    io2.close();
    await nbd.restore([rec]);
    assert.notEqual(nbd.pid(), pid);
    assert.deepEqual(await nbd.exported(), [id]);
    assert.match(qemuIo(img, ["read -P 0x44 128k 64k"]), /read 65536\/65536/);

    // Restore drops exports not in the set; unexport is idempotent; then the volume is free again.
    await nbd.restore([]);
    assert.deepEqual(await nbd.exported(), []);
    await nbd.export(id, loc, { readOnly: true });
    assert.throws(() => qemuIo(img, ["write 0 4k"]));
    await nbd.unexport(id);
    await nbd.unexport(id);
    assert.equal(await nbd.holds(id), false);
    await b.deleteSnapshot(id, sid);
    await b.delete(id);
    await nbd.stop();
    assert.equal(nbd.pid(), null);
  },
);

test(
  "iSCSI: tgtd serves a raw volume with CHAP; sessions survive restore; kill -9 and restore bring the same target back",
  { skip: SKIP_TGT, timeout: 600_000 },
  async () => {
    const dir = await scratch("tgt");
    const port = await freePort();
    const opts = { runDir: join(dir, "run"), port, controlPort: 10_000 + (port % 20_000) };
    let tgt = createTransports({ iscsi: opts }).get("iscsi") as TgtTransport;
    cleanups.push(() => tgt.stop());
    const b = new FileBackend({ dir: join(dir, "volumes"), holders: () => [tgt] });
    const id = randomUUID();
    const raw = new Map([["file:format", "raw"]]);
    const loc = await b.create({ id, sizeGb: 1, options: raw });
    await assert.rejects(tgt.export(id, { ...loc, format: "qcow2" }, { readOnly: false }), /raw/);
    const rec = await tgt.export(id, loc, { readOnly: false });
    const info = tgt.connectionInfo(rec);
    assert.equal(info.driver_volume_type, "iscsi");
    if (info.driver_volume_type !== "iscsi") return;
    assert.equal(info.data.target_iqn, `${IQN_PREFIX}${id}`);
    assert.equal(info.data.target_portal, `127.0.0.1:${port}`);
    assert.equal(info.data.target_lun, 1);
    assert.equal(info.data.auth_method, "CHAP");
    assert.deepEqual(await tgt.export(id, loc, { readOnly: false }), rec); // idempotent, same credentials
    const {
      target_portal: portal,
      target_iqn: iqn,
      auth_username: user,
      auth_password: password,
    } = info.data;
    const img = iscsiImage(portal, iqn, user, password);
    assert.equal(virtualSize(img), GiB);
    assert.throws(() => virtualSize(iscsiImage(portal, iqn)), /uthentication|log ?in/i);
    assert.throws(
      () => virtualSize(iscsiImage(portal, iqn, user, "wrongpassword1")),
      /uthentication|log ?in/i,
    );

    // Written through iSCSI, on the volume's file.
    const io = new IoSession(img);
    cleanups.push(async () => io.close());
    assert.match(await io.cmd("write -P 0x6b 0 64k"), /wrote 65536/);
    const fh = await open(loc.path, "r");
    const head = Buffer.alloc(4096);
    await fh.read(head, 0, 4096, 0).finally(() => fh.close());
    assert.deepEqual(head, Buffer.alloc(4096, 0x6b));
    await assert.rejects(b.readRaw(id), /in use/); // a raw volume in use has no point-in-time view

    // A new transport object (the agent restarted) restores: same tid, the open session goes on.
    const tid = (await tgt.targets())[0]!.tid;
    tgt = new TgtTransport(opts);
    await tgt.restore([rec]);
    assert.equal((await tgt.targets())[0]!.tid, tid);
    assert.equal((await tgt.targets())[0]!.sessions, 1);
    assert.match(await io.cmd("write -P 0x2c 64k 64k"), /wrote 65536/);
    assert.match(await io.cmd("read -P 0x2c 64k 64k"), /read 65536\/65536/);

    // Extend while exported: the file grows and LUN 1 is re-added with the new capacity.
    await b.extend(id, 2);
    assert.equal(virtualSize(img), 2 * GiB);
    assert.match(await io.cmd("read -P 0x2c 64k 64k"), /read 65536\/65536/);

    // tgtd killed -9: restore recreates the target with the same tid and CHAP credentials.
    const pid = tgt.pid();
    assert.ok(pid);
    io.close();
    process.kill(pid, "SIGKILL");
    await until("tgtd to die", () => tgt.pid() === null);
    assert.deepEqual(await tgt.exported(), []);
    tgt = new TgtTransport(opts);
    await tgt.restore([rec]);
    assert.deepEqual(await tgt.exported(), [id]);
    assert.equal((await tgt.targets())[0]!.tid, tid);
    assert.match(qemuIo(img, ["read -P 0x2c 64k 64k"]), /read 65536\/65536/);

    // Unexport with a session open (forced, as Cinder's delete), idempotent; stop leaves no daemon.
    const io3 = new IoSession(img);
    cleanups.push(async () => io3.close());
    assert.match(await io3.cmd("read -P 0x6b 0 4k"), /read 4096/);
    await tgt.unexport(id);
    await tgt.unexport(id);
    assert.deepEqual(await tgt.exported(), []);
    assert.equal(await tgt.holds(id), false);
    io3.close();
    await b.delete(id);
    await tgt.stop();
    assert.equal(tgt.pid(), null);
  },
);

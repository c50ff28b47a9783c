// Hot-plug over QMP, behind the small typed interface the networking and block storage services will use: NICs
// (the port's tap, or a restricted user-mode backend when the network service has no data plane) and volumes given as a QEMU block source (a
// qcow2 or raw file, an NBD server on a unix socket or TCP, or an iSCSI target through QEMU's own initiator).
// Removal waits for DEVICE_DELETED. Attached devices are remembered in the record so a reboot keeps NICs.
import { InvalidInstanceState } from "../errors.js";
import { PowerState, type Vif, type VolumeSource } from "../types.js";
import { nicDeviceId, volumeDeviceId, volumeSerial, type QemuCore } from "./driver-core.js";
import { SLIRP_NET } from "../../metadata/proxy.js";
import { QmpTimeoutError } from "./qmp.js";

const { RUNNING, PAUSED, SHUTDOWN } = PowerState;

/** Where a volume's blocks come from (drivers/types.ts). */
export type { VolumeSource };

/** Hot-plug of volumes; the qemu driver implements it, Cinder's attach flow will call it. */
export interface VolumeHotplug {
  attachVolume(uuid: string, volumeId: string, source: VolumeSource): Promise<void>;
  detachVolume(uuid: string, volumeId: string): Promise<void>;
  extendVolume(uuid: string, volumeId: string, sizeBytes: number): Promise<void>;
}

// QEMU node names are at most 31 bytes: a volume's device id keeps 20 characters of its id.
const devId = (kind: "nic" | "vol", id: string) => (kind === "nic" ? nicDeviceId(id) : volumeDeviceId(id));

/** Attach a NIC to a running instance. */
export async function attachInterface(core: QemuCore, uuid: string, vif: Vif): Promise<void> {
  const rec = await core.record(uuid);
  if (rec.vifs.some((v) => v.id === vif.id))
    throw new InvalidInstanceState(uuid, "attach interface", `port ${vif.id} is already attached`);
  const l = await core.requireLive(rec, "attach interface", [RUNNING, PAUSED]);
  const id = devId("nic", vif.id);
  // The port's tap when the network agent made one (QEMU opens it by name), else restricted user networking.
  if (vif.tapName)
    await l.proc.qmp.execute("netdev_add", {
      type: "tap",
      id: `${id}-net`,
      ifname: vif.tapName,
      script: "no",
      downscript: "no",
    });
  else
    await l.proc.qmp.execute("netdev_add", { type: "user", id: `${id}-net`, restrict: true, net: SLIRP_NET });
  try {
    await l.proc.qmp.execute("device_add", {
      driver: "virtio-net-pci",
      id,
      netdev: `${id}-net`,
      mac: vif.address,
      ...(vif.tapName && vif.mtu ? { host_mtu: vif.mtu } : {}),
      romfile: "", // as at boot (cmdline.ts): no option ROM
    });
  } catch (err) {
    await l.proc.qmp.execute("netdev_del", { id: `${id}-net` }).catch(() => {});
    throw err;
  }
  rec.vifs.push(vif);
  await core.notePciSlots(rec, l);
}

/** Detach a NIC (waits for the guest to release it). */
export async function detachInterface(core: QemuCore, uuid: string, vifId: string): Promise<void> {
  const rec = await core.record(uuid);
  if (!rec.vifs.some((v) => v.id === vifId))
    throw new InvalidInstanceState(uuid, "detach interface", `port ${vifId} is not attached`);
  const l = await core.requireLive(rec, "detach interface", [RUNNING, PAUSED]);
  const id = devId("nic", vifId);
  try {
    await l.proc.qmp.deviceDel(id, (core.opts.hotplugTimeoutS ?? 10) * 1000);
    await l.proc.qmp.execute("netdev_del", { id: `${id}-net` }).catch(() => {});
  } catch (err) {
    if (!(err instanceof QmpTimeoutError)) throw err;
    // The guest ignored the ACPI eject (no OS, or no hot-plug support): the port is released and the NIC goes
    // at the next boot, which is built from the record.
    core.log?.warn({ uuid, port: vifId }, "the guest did not release the NIC; it goes at the next boot");
  }
  rec.vifs = rec.vifs.filter((v) => v.id !== vifId);
  await core.layout.save(rec);
}

/** The QEMU secret object holding a volume's CHAP password (`<device id>-chap`). */
export const chapSecretId = (deviceId: string) => `${deviceId}-chap`;

/** Seconds an NBD volume's requests wait for its server to come back before they fail. */
const NBD_RECONNECT_DELAY_S = 30;

/** The QMP blockdev options of a volume's format node `node` (hot-plug, and the command line at boot). */
export function blockdevFor(node: string, s: VolumeSource): Record<string, unknown> {
  const ro = s.readOnly === true;
  switch (s.type) {
    case "file":
      return {
        driver: s.format,
        "node-name": node,
        "read-only": ro,
        file: { driver: "file", filename: s.path, "read-only": ro },
      };
    case "nbd":
      return {
        driver: "raw",
        "node-name": node,
        "read-only": ro,
        file: {
          driver: "nbd",
          server:
            "socketPath" in s
              ? { type: "unix", path: s.socketPath }
              : { type: "inet", host: s.host, port: String(s.port) },
          ...(s.export ? { export: s.export } : {}),
          // Requests wait (and the client reconnects) while the storage side restarts or re-exports the volume.
          "reconnect-delay": NBD_RECONNECT_DELAY_S,
        },
      };
    case "iscsi":
      return {
        driver: "raw",
        "node-name": node,
        "read-only": ro,
        file: {
          driver: "iscsi",
          transport: "tcp",
          portal: s.portal,
          target: s.target,
          lun: s.lun ?? 0,
          ...(s.chap
            ? { user: s.chap.user, "password-secret": chapSecretId(node.replace(/-fmt$/, "")) }
            : {}),
          ...(s.initiatorName ? { "initiator-name": s.initiatorName } : {}),
        },
      };
  }
}

/**
 * Attach a volume as a virtio disk whose serial is the volume id (as Nova does): hot-plugged into a live guest,
 * only recorded for a stopped one. Either way the record keeps it, so every later boot has it.
 */
export async function attachVolume(
  core: QemuCore,
  uuid: string,
  volumeId: string,
  source: VolumeSource,
  bootIndex?: number,
): Promise<void> {
  const rec = await core.record(uuid);
  if ((rec.volumes ?? []).some((v) => v.volumeId === volumeId))
    throw new InvalidInstanceState(uuid, "attach volume", `volume ${volumeId} is already attached`);
  const st = await core.expect(rec, "attach volume", [RUNNING, PAUSED, SHUTDOWN]);
  if (st !== SHUTDOWN) {
    const l = await core.requireLive(rec, "attach volume", [RUNNING, PAUSED]);
    const id = devId("vol", volumeId);
    if (source.type === "iscsi" && source.chap) {
      await l.proc.qmp.execute("object-del", { id: chapSecretId(id) }).catch(() => {}); // a failed attach's
      await l.proc.qmp.execute("object-add", {
        "qom-type": "secret",
        id: chapSecretId(id),
        data: source.chap.password,
      });
    }
    try {
      await l.proc.qmp.execute("blockdev-add", blockdevFor(`${id}-fmt`, source) as never);
    } catch (err) {
      await l.proc.qmp.execute("object-del", { id: chapSecretId(id) }).catch(() => {});
      throw err;
    }
    try {
      await l.proc.qmp.execute("device_add", {
        driver: "virtio-blk-pci",
        id,
        drive: `${id}-fmt`,
        serial: volumeSerial(volumeId),
        ...(source.shared ? { "share-rw": true } : {}),
      });
    } catch (err) {
      await l.proc.qmp.execute("blockdev-del", { "node-name": `${id}-fmt` }).catch(() => {});
      await l.proc.qmp.execute("object-del", { id: chapSecretId(id) }).catch(() => {});
      throw err;
    }
  }
  rec.volumes = [
    ...(rec.volumes ?? []),
    { volumeId, source, ...(bootIndex !== undefined ? { bootIndex } : {}) },
  ];
  await core.layout.save(rec);
  const l = st !== SHUTDOWN ? await core.liveOf(uuid) : undefined;
  if (l) await core.notePciSlots(rec, l);
}

/** Detach a volume: from a live guest device_del, wait for DEVICE_DELETED, drop its block node; then forget it. */
export async function detachVolume(core: QemuCore, uuid: string, volumeId: string): Promise<void> {
  const rec = await core.record(uuid);
  if (!(rec.volumes ?? []).some((v) => v.volumeId === volumeId))
    throw new InvalidInstanceState(uuid, "detach volume", `volume ${volumeId} is not attached`);
  const st = await core.expect(rec, "detach volume", [RUNNING, PAUSED, SHUTDOWN]);
  if (st !== SHUTDOWN) {
    const l = await core.requireLive(rec, "detach volume", [RUNNING, PAUSED]);
    const id = devId("vol", volumeId);
    // A guest under TCG may take a while to release a disk; a volume is only freed once it did.
    await l.proc.qmp.deviceDel(id, (core.opts.hotplugTimeoutS ?? 30) * 1000);
    await l.proc.qmp.execute("blockdev-del", { "node-name": `${id}-fmt` });
    await l.proc.qmp.execute("object-del", { id: chapSecretId(id) }).catch(() => {}); // only iSCSI with CHAP has one
  }
  rec.volumes = (rec.volumes ?? []).filter((v) => v.volumeId !== volumeId);
  await core.layout.save(rec);
}

/**
 * The volume grew: let a live guest see `sizeBytes` (block_resize on its format node; the guest gets a capacity
 * change). An NBD client learns the export's size only when it connects, so an NBD volume's node first gets a
 * new connection as its file child (blockdev-reopen), then is resized; the storage side re-exports a grown volume
 * (qemu-storage-daemon cannot grow an exported node), which the old connection rides out with reconnect-delay.
 * A stopped guest sees the size at boot.
 */
export async function extendVolume(
  core: QemuCore,
  uuid: string,
  volumeId: string,
  sizeBytes: number,
): Promise<void> {
  const rec = await core.record(uuid);
  const vol = (rec.volumes ?? []).find((v) => v.volumeId === volumeId);
  if (!vol) throw new InvalidInstanceState(uuid, "extend volume", `volume ${volumeId} is not attached`);
  const st = await core.expect(rec, "extend volume", [RUNNING, PAUSED, SHUTDOWN]);
  if (st === SHUTDOWN) return;
  const l = await core.requireLive(rec, "extend volume", [RUNNING, PAUSED]);
  const node = `${devId("vol", volumeId)}-fmt`;
  if (vol.source.type === "nbd") {
    const opts = blockdevFor(node, vol.source);
    const child = `${devId("vol", volumeId)}-n${Date.now().toString(36).slice(-4)}`;
    await l.proc.qmp.execute("blockdev-add", { ...(opts.file as object), "node-name": child } as never);
    try {
      const { file: _old, ...fmt } = opts;
      await l.proc.qmp.execute("blockdev-reopen", { options: [{ ...fmt, file: child }] } as never);
    } catch (err) {
      await l.proc.qmp.execute("blockdev-del", { "node-name": child }).catch(() => {});
      throw err;
    }
  }
  await l.proc.qmp.execute("block_resize", { "node-name": node, size: sizeBytes } as never);
}

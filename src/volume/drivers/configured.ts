// The driver a host's volume agent runs with, from the configuration: the fake one, or the file backend under
// DATA_DIR/volumes with the transports this host can run (NBD through qemu-storage-daemon always, iSCSI through
// its own tgtd as root), their sockets in a short per-cloud run directory so two clouds never share a daemon.
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Config } from "../../shared/config.js";
import { fakeDriver } from "./fake.js";
import { createTransports, parseVolumeBackendName } from "./registry.js";
import type { VolumeTransport } from "./transports.js";
import type { BlockHolder, VolumeBackend } from "./types.js";
import { FileBackend } from "./file.js";

/** A backend with its transports, as the volume agent runs with them. */
export interface ConfiguredVolumeDriver {
  backend: VolumeBackend;
  transports: ReadonlyMap<
    "iscsi" | "nbd",
    VolumeTransport & Partial<BlockHolder> & { stop?(): Promise<void> }
  >;
}

/** The cloud's volume run directory: /run when root (daemons' sockets and pid files), else the temp dir. */
export function volumeRunDir(dataDir: string): string {
  const id = cloudVolumeId(dataDir);
  return process.getuid?.() === 0 ? `/run/stratus-vol-${id}` : join(tmpdir(), `stratus-vol-${id}`);
}

/** The iSCSI portal port: configured, or one derived from the data directory (20000-29999). */
export function iscsiPortFor(cfg: Config): number {
  return cfg.volume.iscsiPort || 20000 + (parseInt(cloudVolumeId(cfg.dataDir), 16) % 10000);
}

const cloudVolumeId = (dataDir: string) =>
  createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 8);

/** This host's volume driver for `cfg.volume.backend`. */
export function volumeDriverFor(cfg: Config): ConfiguredVolumeDriver {
  const name = parseVolumeBackendName(cfg.volume.backend);
  if (name === "fake") return fakeDriver(cfg.volume.fakeCapacityGb);
  const run = volumeRunDir(cfg.dataDir);
  const root = process.getuid?.() === 0;
  const transports = createTransports({
    nbd: { runDir: join(run, "nbd") },
    ...(root ? { iscsi: { runDir: join(run, "tgt"), port: iscsiPortFor(cfg) } } : {}),
  });
  const backend = new FileBackend({
    dir: join(cfg.dataDir, "volumes"),
    holders: () => [...transports.values()],
  });
  return { backend, transports };
}

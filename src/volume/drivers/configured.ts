// The driver a host's volume agent runs with, from the configuration: the fake one, or the file backend under
// DATA_DIR/volumes with the transports this host can run (NBD through qemu-storage-daemon always, iSCSI through
// its own tgtd as root), their sockets in a short per-cloud run directory so two clouds never share a daemon.
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../../shared/config.js";
import { fakeDriver } from "./fake.js";
import { createTransports, parseVolumeBackendName } from "./registry.js";
import type { VolumeTransport } from "./transports.js";
import type { BlockHolder, NamedBackend, VolumeBackend } from "./types.js";
import { FakeBackend } from "./fake.js";
import { FileBackend } from "./file.js";

/** A backend with its transports, as the volume agent runs with them. */
export interface ConfiguredVolumeDriver {
  /** The first backend (the only one unless `volume.backends` names several). */
  backend: VolumeBackend;
  /** Every backend of this host, by name, when `volume.backends` is configured. */
  backends?: NamedBackend[];
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

/** The backends `cfg` configures: `volume.backends`, or the one `volume.backend` (named as its driver). */
export function configuredBackends(cfg: Config) {
  const list = cfg.volume.backends.length
    ? cfg.volume.backends
    : [{ name: cfg.volume.backend, driver: cfg.volume.backend }];
  const names = new Set<string>();
  return list.map((b) => {
    if (names.has(b.name)) throw new Error(`volume.backends: the name "${b.name}" is used twice`);
    names.add(b.name);
    return { ...b, driver: parseVolumeBackendName(b.driver) };
  });
}

/** This host's volume driver for `cfg.volume.backend` (or its several `volume.backends`). */
export function volumeDriverFor(cfg: Config): ConfiguredVolumeDriver {
  const specs = configuredBackends(cfg);
  const multi = cfg.volume.backends.length > 0;
  if (!specs.some((b) => b.driver === "file")) {
    const fake = fakeDriver(cfg.volume.fakeCapacityGb);
    if (!multi) return fake;
    const backends = specs.map((b) => ({
      name: b.name,
      volumeBackendName: b.volumeBackendName ?? b.name,
      backend: new FakeBackend(b.capacityGb ?? cfg.volume.fakeCapacityGb),
    }));
    return { backend: backends[0].backend, backends, transports: fake.transports };
  }
  const run = volumeRunDir(cfg.dataDir);
  const root = process.getuid?.() === 0;
  const transports = createTransports({
    nbd: { runDir: join(run, "nbd") },
    ...(root ? { iscsi: { runDir: join(run, "tgt"), port: iscsiPortFor(cfg) } } : {}),
  });
  const holders = () => [...transports.values()];
  const backends = specs.map((b) => ({
    name: b.name,
    volumeBackendName: b.volumeBackendName ?? b.name,
    backend:
      b.driver === "fake"
        ? (new FakeBackend(b.capacityGb ?? cfg.volume.fakeCapacityGb) as VolumeBackend)
        : new FileBackend({
            dir: b.dir ?? join(cfg.dataDir, multi ? `volumes-${b.name}` : "volumes"),
            holders,
          }),
  }));
  return { backend: backends[0].backend, ...(multi ? { backends } : {}), transports };
}

/**
 * Stop a driver's daemons (every target and export goes: guests lose their volumes) and remove the cloud's volume
 * run directory; returns what was stopped. What a graceful stop and `stratus wipe-volumes` do; a crash skips it,
 * so the daemons keep serving and the next agent adopts them.
 */
export async function wipeVolumeDriver(
  cfg: Config,
  driver: { transports: ReadonlyMap<string, VolumeTransport & { stop?(): Promise<void> }> },
  log?: Logger,
): Promise<string[]> {
  const done: string[] = [];
  let failed = false;
  for (const [protocol, t] of driver.transports) {
    if (!t.stop) continue;
    const running = (t as { pid?(): number | null }).pid?.() ?? null;
    try {
      await t.stop();
      if (running !== null) done.push(`${protocol} daemon (pid ${running})`);
    } catch (err) {
      failed = true;
      log?.warn({ err: err instanceof Error ? err.message : String(err), protocol }, "volume: stop failed");
    }
  }
  if (!failed && configuredBackends(cfg).some((b) => b.driver !== "fake"))
    await rm(volumeRunDir(cfg.dataDir), { recursive: true, force: true });
  return done;
}

/** Stop the volume daemons a cloud on `cfg.dataDir` left (after a crash, or before removing its data). */
export async function wipeVolumes(cfg: Config): Promise<string[]> {
  return wipeVolumeDriver(cfg, volumeDriverFor(cfg));
}

// The backup drivers by name (as the volume backend registry): swift (object storage, the default when the cloud
// runs it), posix (files under a directory) and fake (in memory, tests). All three are chunked drivers over a store.
import { join } from "node:path";
import type { Config } from "../../shared/config.js";
import { ChunkedBackupDriver } from "./chunked.js";
import { MemoryChunkStore } from "./fake.js";
import { PosixChunkStore } from "./posix.js";
import { SwiftChunkStore, type SwiftRequest } from "./swift.js";
import type { BackupDriver, ChunkStore } from "./types.js";

/** What the drivers may need: the object service client (null when the cloud has none) and the config. */
export interface BackupDeps {
  cfg: Config;
  swift: SwiftRequest | null;
}

const factories = {
  swift: (d: BackupDeps): ChunkStore => {
    if (!d.swift) throw new Error("the swift backup driver needs the object storage service");
    return new SwiftChunkStore(d.swift);
  },
  posix: (d: BackupDeps): ChunkStore =>
    new PosixChunkStore(d.cfg.volume.backup.posixPath || join(d.cfg.dataDir, "backups")),
  fake: (): ChunkStore => new MemoryChunkStore(),
} satisfies Record<string, (d: BackupDeps) => ChunkStore>;

/** The registered backup driver names. */
export type BackupDriverName = keyof typeof factories;

/** The registered names, sorted. */
export const BACKUP_DRIVER_NAMES = Object.freeze(
  Object.keys(factories).sort(),
) as readonly BackupDriverName[];

/** Whether a name is a registered backup driver. */
export const isBackupDriverName = (n: string): n is BackupDriverName => Object.hasOwn(factories, n);

/** The configured driver's name: volume.backup.driver, else swift when the object service is there, else posix. */
export function backupDriverName(d: BackupDeps): BackupDriverName {
  const n = d.cfg.volume.backup.driver;
  if (n === "") return d.swift ? "swift" : "posix";
  if (!isBackupDriverName(n))
    throw new Error(`Unknown backup driver "${n}" (known: ${BACKUP_DRIVER_NAMES.join(", ")})`);
  return n;
}

/** A backup driver of that name (its store, with the configured chunk size). */
export function createBackupDriver(name: BackupDriverName, d: BackupDeps, store?: ChunkStore): BackupDriver {
  return new ChunkedBackupDriver(name, store ?? factories[name](d), d.cfg.volume.backup.chunkSize);
}

// Typed calls for volume backups (create, restore to a new or an existing volume, delete) and volume transfers
// (create, whose auth key is shown once, accept with id and key, cancel), Cinder v3 at the pinned microversion.
import type { Api } from "./client.js";

/** A volume backup. */
export interface Backup {
  id: string;
  name: string | null;
  description: string | null;
  status: string;
  size: number;
  volume_id: string;
  is_incremental: boolean;
  has_dependent_backups: boolean;
  created_at: string;
  fail_reason: string | null;
}

/** What the create dialog sends. */
export interface NewBackup {
  volume_id: string;
  name: string;
  description: string;
  incremental: boolean;
  /** Back up an in-use volume. */
  force: boolean;
}

/** A volume transfer (the auth key only in the answer to create). */
export interface Transfer {
  id: string;
  name: string | null;
  volume_id: string;
  created_at: string;
  auth_key?: string;
}

/** Where a restore went. */
export interface Restore {
  backup_id: string;
  volume_id: string;
  volume_name: string | null;
}

const q = (s: string) => encodeURIComponent(s);
const BS = "block-storage";

/** The backup and transfer calls, bound to one Api. */
export function backupCalls(api: Api) {
  return {
    backups: async (): Promise<Backup[]> => (await api.get(BS, "/backups/detail")).backups,
    createBackup: async (b: NewBackup): Promise<Backup> =>
      (
        await api.post(BS, "/backups", {
          backup: {
            volume_id: b.volume_id,
            name: b.name,
            description: b.description,
            incremental: b.incremental,
            force: b.force,
          },
        })
      ).backup,
    /** Restore to a new volume (`volumeId` omitted, named `name`) or over an existing available volume. */
    restore: async (id: string, target: { volumeId?: string; name?: string }): Promise<Restore> => {
      const restore: Record<string, string> = {};
      if (target.volumeId) restore.volume_id = target.volumeId;
      else if (target.name) restore.name = target.name;
      return (await api.post(BS, `/backups/${q(id)}/restore`, { restore })).restore;
    },
    deleteBackup: (id: string) => api.del(BS, `/backups/${q(id)}`),
    transfers: async (): Promise<Transfer[]> => (await api.get(BS, "/volume-transfers/detail")).transfers,
    /** Create a transfer; the answer carries the auth key, which the cloud never shows again. */
    createTransfer: async (volumeId: string, name: string): Promise<Transfer> =>
      (await api.post(BS, "/volume-transfers", { transfer: { volume_id: volumeId, name } })).transfer,
    acceptTransfer: async (id: string, authKey: string): Promise<Transfer> =>
      (await api.post(BS, `/volume-transfers/${q(id)}/accept`, { accept: { auth_key: authKey } })).transfer,
    cancelTransfer: (id: string) => api.del(BS, `/volume-transfers/${q(id)}`),
  };
}

/** The backup and transfer calls' type. */
export type BackupCalls = ReturnType<typeof backupCalls>;

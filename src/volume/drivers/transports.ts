// How a volume's blocks reach a compute host without any kernel initiator: iSCSI through userspace tgt (QEMU's
// libiscsi initiator attaches it) or NBD through qemu-storage-daemon (QEMU's NBD client). The daemons outlive
// the volume agent; `restore` makes them export exactly the given set after the agent's or the daemon's restart.
import type { VolumeLocation } from "./types.js";

/** Cinder's connection info as the attachments API returns it (`connection_info`). */
export type ConnectionInfo =
  | {
      driver_volume_type: "iscsi";
      data: {
        target_iqn: string;
        target_portal: string;
        target_lun: number;
        target_discovered: false;
        auth_method: "CHAP";
        auth_username: string;
        auth_password: string;
        volume_id: string;
        access_mode: "rw" | "ro";
        encrypted: false;
      };
    }
  | {
      driver_volume_type: "nbd";
      /** A unix socket on the storage host when compute is local, else host and port. */
      data: {
        socket_path?: string;
        host?: string;
        port?: number;
        export_name: string;
        volume_id: string;
        access_mode: "rw" | "ro";
        encrypted: false;
      };
    };

/** One export as the agent records it, so it can be restored. */
export interface ExportRecord {
  volumeId: string;
  location: VolumeLocation;
  readOnly: boolean;
  /** Transport-specific state the transport made at export time (e.g. CHAP credentials, tid), kept by the agent. */
  state: Record<string, unknown>;
}

/** A transport (iscsi or nbd). */
export interface VolumeTransport {
  readonly protocol: "iscsi" | "nbd";
  /** Export a volume (idempotent: an existing export of the same volume is returned as it is). */
  export(volumeId: string, location: VolumeLocation, opts: { readOnly: boolean }): Promise<ExportRecord>;
  /** The connection info a compute host needs for an export. */
  connectionInfo(rec: ExportRecord): ConnectionInfo;
  /** Stop exporting a volume (idempotent). */
  unexport(volumeId: string): Promise<void>;
  /** Make the daemon export exactly these (start it if needed; existing sessions are kept). */
  restore(records: ExportRecord[]): Promise<void>;
  /** Volume ids the daemon exports now. */
  exported(): Promise<string[]>;
}

// The compute service's client of the Block Storage API (Nova's cinder API module, the calls it makes): show,
// create, delete and snapshot volumes, and the attachments flow of microversion 3.44 (reserve, connect, complete,
// delete).
// Calls go through the block storage service's public API below /volume, as the cloud admin (like the ports
// client), in the volume's own project. Compute never reads the volume service's internals: the shapes it needs
// are copied here.
import { ServiceCallError, type ServiceClient } from "../shared/client/service-client.js";

/** The microversion compute speaks (the new attachments API). */
export const VOLUME_MICROVERSION = "3.44";

/** A volume as compute reads it. */
export interface CinderVolume {
  id: string;
  status: string;
  size: number;
  availability_zone?: string;
  multiattach?: boolean;
  bootable?: string | boolean;
  name?: string | null;
  attachments?: Array<{ server_id?: string; attachment_id?: string; volume_id?: string; device?: string }>;
  volume_image_metadata?: Record<string, string>;
  description?: string | null;
  volume_type?: string | null;
  snapshot_id?: string | null;
  metadata?: Record<string, string>;
  created_at?: string;
}

/**
 * Cinder's connection info of an attachment (the two transports Stratus's block storage offers); compute adds
 * `multiattach` when the volume may be attached to several servers (as Nova does before the driver opens it).
 */
export type ConnectionInfo = { multiattach?: boolean } & (
  | {
      driver_volume_type: "iscsi";
      data: {
        target_iqn: string;
        target_portal: string;
        target_lun: number;
        auth_method?: string;
        auth_username?: string;
        auth_password?: string;
        volume_id?: string;
        access_mode?: "rw" | "ro";
      };
    }
  | {
      driver_volume_type: "nbd";
      data: {
        socket_path?: string;
        host?: string;
        port?: number;
        export_name: string;
        volume_id?: string;
        access_mode?: "rw" | "ro";
      };
    }
);

/** A volume snapshot as compute reads it. */
export interface CinderSnapshot {
  id: string;
  status: string;
  volume_id: string;
  size: number;
  name?: string | null;
  description?: string | null;
  created_at?: string;
}

/** An attachment as compute reads it. */
export interface CinderAttachment {
  id: string;
  status: string;
  volume_id?: string;
  instance?: string | null;
  connection_info?: ConnectionInfo | null;
}

/** What a compute host tells the block storage service about itself (os-brick's connector properties). */
export interface VolumeConnector {
  host: string;
  initiator: string;
  ip: string;
  platform: "x86_64";
  os_type: "linux";
  multipath: false;
}

/** A refusal by the block storage service that compute passes on (a 4xx: not found, not available, ...). */
export class VolumeRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The message of a Cinder error body ({"badRequest": {"message": ...}}), or "". */
function cinderMessage(body: unknown): string {
  if (!body || typeof body !== "object") return "";
  for (const v of Object.values(body as Record<string, unknown>))
    if (v && typeof v === "object" && typeof (v as { message?: unknown }).message === "string")
      return (v as { message: string }).message;
  return "";
}

/** Block storage as the compute service uses it; every call names the volume's project. */
export class VolumeClient {
  constructor(private readonly http: ServiceClient) {}

  private async call(method: string, project: string, path: string, body?: unknown) {
    const full = `/v3/${encodeURIComponent(project)}${path}`;
    const res = await this.http.request(method, full, {
      body,
      headers: { "openstack-api-version": `volume ${VOLUME_MICROVERSION}` },
    });
    if (res.status >= 200 && res.status < 300) return res.body;
    if (res.status >= 400 && res.status < 500)
      throw new VolumeRefused(res.status, cinderMessage(res.body) || `HTTP ${res.status}`);
    throw new ServiceCallError("volume", method, full, res);
  }

  /** One volume (VolumeRefused 404 when it does not exist in `project`). */
  async showVolume(project: string, id: string): Promise<CinderVolume> {
    return (await this.call("GET", project, `/volumes/${encodeURIComponent(id)}`)).volume;
  }

  /** The volumes of `project`, with details. */
  async listVolumes(project: string): Promise<CinderVolume[]> {
    return (await this.call("GET", project, "/volumes/detail")).volumes;
  }

  /** Create a volume (blank, or from an image when imageRef is given). */
  async createVolume(
    project: string,
    v: {
      size: number;
      name: string;
      imageRef?: string;
      availability_zone?: string;
      description?: string;
      volume_type?: string;
      metadata?: Record<string, string>;
      snapshot_id?: string;
    },
  ): Promise<CinderVolume> {
    return (await this.call("POST", project, "/volumes", { volume: v })).volume;
  }

  /** Delete a volume. */
  async deleteVolume(project: string, id: string): Promise<void> {
    await this.call("DELETE", project, `/volumes/${encodeURIComponent(id)}`);
  }

  /** Snapshot a volume, also while it is attached (`force`, as Nova's create_snapshot_force). */
  async createSnapshot(
    project: string,
    s: { volume_id: string; name: string; description?: string | null; force: boolean },
  ): Promise<CinderSnapshot> {
    return (await this.call("POST", project, "/snapshots", { snapshot: s })).snapshot;
  }

  /** One snapshot (VolumeRefused 404 when it does not exist in `project`). */
  async showSnapshot(project: string, id: string): Promise<CinderSnapshot> {
    return (await this.call("GET", project, `/snapshots/${encodeURIComponent(id)}`)).snapshot;
  }

  /** The snapshots of `project`, with details. */
  async listSnapshots(project: string): Promise<CinderSnapshot[]> {
    return (await this.call("GET", project, "/snapshots/detail")).snapshots;
  }

  /** Delete a snapshot. */
  async deleteSnapshot(project: string, id: string): Promise<void> {
    await this.call("DELETE", project, `/snapshots/${encodeURIComponent(id)}`);
  }

  /** Reserve a volume for a server (the volume becomes reserved; 400 when it is not available). */
  async createAttachment(project: string, volumeId: string, instanceUuid: string): Promise<CinderAttachment> {
    const body = { attachment: { volume_uuid: volumeId, instance_uuid: instanceUuid } };
    return (await this.call("POST", project, "/attachments", body)).attachment;
  }

  /** Give an attachment the host's connector (and the guest's device, as Nova's `mountpoint`); the answer carries the connection info. */
  async updateAttachment(
    project: string,
    id: string,
    connector: VolumeConnector,
    mountpoint?: string | null,
  ): Promise<CinderAttachment> {
    const body = { attachment: { connector: { ...connector, ...(mountpoint ? { mountpoint } : {}) } } };
    return (await this.call("PUT", project, `/attachments/${encodeURIComponent(id)}`, body)).attachment;
  }

  /** Mark an attachment complete (the volume becomes in-use). */
  async completeAttachment(project: string, id: string): Promise<void> {
    await this.call("POST", project, `/attachments/${encodeURIComponent(id)}/action`, {
      "os-complete": null,
    });
  }

  /** A volume's attachments to one server, whatever their status (a volume's body lists only attached ones). */
  async listAttachments(
    project: string,
    volumeId: string,
    instanceUuid: string,
  ): Promise<CinderAttachment[]> {
    const q = `?volume_id=${encodeURIComponent(volumeId)}&instance_id=${encodeURIComponent(instanceUuid)}`;
    return (await this.call("GET", project, `/attachments/detail${q}`)).attachments;
  }

  /** Delete an attachment (the volume is available again when it was the last one). */
  async deleteAttachment(project: string, id: string): Promise<void> {
    await this.call("DELETE", project, `/attachments/${encodeURIComponent(id)}`);
  }
}

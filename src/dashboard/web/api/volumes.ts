// Typed calls for Block Storage (Cinder v3): volumes, snapshots, types and zones, and attaching through Nova.
import type { Api } from "./client.js";

/** One attachment of a volume, as the volume's body lists it. */
export interface VolumeAttachment {
  server_id: string;
  attachment_id: string;
  device: string | null;
}

/** A volume as the Volumes page shows it. */
export interface Volume {
  id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  volume_type: string | null;
  availability_zone: string | null;
  bootable: string;
  created_at: string;
  snapshot_id: string | null;
  attachments: VolumeAttachment[];
}

/** A volume snapshot. */
export interface Snapshot {
  id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  volume_id: string;
  created_at: string;
}

/** A volume type. */
export interface VolumeType {
  id: string;
  name: string;
  description?: string | null;
}

/** What the create dialog sends: an empty volume, or one from an image or a snapshot. */
export interface NewVolume {
  name: string;
  description: string;
  size: number;
  volume_type?: string;
  availability_zone?: string;
  imageRef?: string;
  snapshot_id?: string;
}

/** What the upload-to-image dialog sends. */
export interface NewVolumeImage {
  imageName: string;
  diskFormat: "raw" | "qcow2";
  force: boolean;
}

const q = (s: string) => encodeURIComponent(s);
const BS = "block-storage";

/** The Block Storage calls, bound to one Api. */
export function volumeCalls(api: Api) {
  return {
    volumes: async (): Promise<Volume[]> => (await api.get(BS, "/volumes/detail")).volumes,
    snapshots: async (): Promise<Snapshot[]> => (await api.get(BS, "/snapshots/detail")).snapshots,
    types: async (): Promise<VolumeType[]> => (await api.get(BS, "/types")).volume_types,
    zones: async (): Promise<string[]> =>
      (
        (await api.get(BS, "/os-availability-zone")).availabilityZoneInfo as Array<{
          zoneName: string;
          zoneState: { available: boolean };
        }>
      )
        .filter((z) => z.zoneState.available)
        .map((z) => z.zoneName),
    createVolume: async (v: NewVolume): Promise<Volume> => {
      const volume: Record<string, unknown> = { name: v.name, description: v.description, size: v.size };
      for (const k of ["volume_type", "availability_zone", "imageRef", "snapshot_id"] as const)
        if (v[k]) volume[k] = v[k];
      return (await api.post(BS, "/volumes", { volume })).volume;
    },
    updateVolume: async (id: string, name: string, description: string): Promise<Volume> =>
      (await api.put(BS, `/volumes/${q(id)}`, { volume: { name, description } })).volume,
    extendVolume: (id: string, size: number): Promise<void> =>
      api.call(BS, `/volumes/${q(id)}/action`, {
        method: "POST",
        body: { "os-extend": { new_size: size } },
        raw: true,
      }),
    deleteVolume: (id: string) => api.del(BS, `/volumes/${q(id)}`),
    /** Upload a volume to a new image of the project (os-volume_upload_image); `force` for an in-use volume. */
    uploadToImage: async (id: string, u: NewVolumeImage): Promise<{ image_id: string }> =>
      (
        await api.post(BS, `/volumes/${q(id)}/action`, {
          "os-volume_upload_image": {
            image_name: u.imageName,
            disk_format: u.diskFormat,
            container_format: "bare",
            force: u.force,
          },
        })
      )["os-volume_upload_image"],
    createSnapshot: async (volumeId: string, name: string, description: string): Promise<Snapshot> =>
      (
        await api.post(BS, "/snapshots", {
          snapshot: { volume_id: volumeId, name, description, force: true },
        })
      ).snapshot,
    deleteSnapshot: (id: string) => api.del(BS, `/snapshots/${q(id)}`),
    /** The project's block storage quotas with usage (volumes, gigabytes, snapshots...). */
    quota: async (project: string): Promise<Record<string, { limit: number; in_use: number }>> => {
      const set = (await api.get(BS, `/os-quota-sets/${q(project)}?usage=true`)).quota_set as Record<
        string,
        unknown
      >;
      const out: Record<string, { limit: number; in_use: number }> = {};
      for (const [k, v] of Object.entries(set))
        if (v && typeof v === "object" && "limit" in v) out[k] = v as { limit: number; in_use: number };
      return out;
    },
    /** Attach through Nova (it reserves, connects and completes the Cinder attachment). */
    attach: (serverId: string, volumeId: string): Promise<void> =>
      api.call("compute", `/servers/${q(serverId)}/os-volume_attachments`, {
        method: "POST",
        body: { volumeAttachment: { volumeId } },
        raw: true,
      }),
    detach: (serverId: string, volumeId: string) =>
      api.del("compute", `/servers/${q(serverId)}/os-volume_attachments/${q(volumeId)}`),
  };
}

/** The Block Storage calls' type. */
export type VolumeCalls = ReturnType<typeof volumeCalls>;

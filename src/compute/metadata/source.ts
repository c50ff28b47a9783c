// Loads an instance's metadata source from compute's own tables (the instance row, its server metadata and the
// type of its key pair). The metadata service is part of compute, so it reads compute's store directly.
import type { Kysely } from "kysely";
import { findInstance, type Instance } from "../instances/store.js";
import type { InstanceMetadataSource, NetworkVif } from "./types.js";
import { metadataVifs } from "../networking/metadata-vifs.js";

/** Supplies an instance's network info (by default: its network info cache's tap VIFs). */
export type NetworkInfoProvider = (inst: Instance) => Promise<NetworkVif[] | undefined>;

/** The encrypted password the guest posted, from Nova's password_0..3 system metadata items. */
export function extractPassword(systemMetadata: Record<string, unknown>): string | null {
  let out = "";
  for (const k of Object.keys(systemMetadata).sort())
    if (k.startsWith("password_") && typeof systemMetadata[k] === "string")
      out += systemMetadata[k] as string;
  return out || null;
}

/** The metadata source of an instance row (plus its server metadata and key pair type). */
export async function sourceOf(
  db: Kysely<any>,
  inst: Instance,
  networkInfo?: NetworkInfoProvider,
): Promise<InstanceMetadataSource> {
  const metaRows = (await db
    .selectFrom("compute_instance_metadata")
    .select(["meta_key", "value"])
    .where("instance_uuid", "=", inst.uuid)
    .orderBy("meta_key")
    .execute()) as Array<{ meta_key: string; value: string }>;
  const meta: Record<string, string> = {};
  for (const r of metaRows) meta[r.meta_key] = r.value;
  let keyPair: InstanceMetadataSource["keyPair"] = null;
  if (inst.key_name && inst.key_data) {
    const kp = (await db
      .selectFrom("compute_keypair")
      .select(["type"])
      .where("user_id", "=", inst.user_id)
      .where("name", "=", inst.key_name)
      .executeTakeFirst()) as { type: string } | undefined;
    keyPair = { name: inst.key_name, type: kp?.type ?? "ssh", publicKey: inst.key_data };
  }
  const props = inst.request_spec?.image?.properties ?? {};
  return {
    uuid: inst.uuid,
    internalId: inst.id,
    name: inst.display_name,
    hostname: inst.hostname,
    projectId: inst.project_id,
    availabilityZone: inst.availability_zone,
    launchIndex: inst.launch_index,
    reservationId: inst.reservation_id,
    keyPair,
    userData: inst.user_data,
    meta,
    flavorName: inst.flavor.name,
    flavor: { ephemeralGb: inst.flavor.ephemeral_gb, swapMb: inst.flavor.swap },
    imageId: inst.image_ref,
    ...(typeof props.kernel_id === "string" ? { kernelId: props.kernel_id } : {}),
    ...(typeof props.ramdisk_id === "string" ? { ramdiskId: props.ramdisk_id } : {}),
    securityGroups: (inst.security_groups ?? []).map((g) => g.name),
    networkInfo: networkInfo ? await networkInfo(inst) : metadataVifs(inst.network_info),
    password: extractPassword(inst.system_metadata ?? {}),
    launchedAt: inst.launched_at,
  };
}

/** The metadata source of a live instance by uuid, or undefined. */
export async function loadSource(
  db: Kysely<any>,
  uuid: string,
  networkInfo?: NetworkInfoProvider,
): Promise<InstanceMetadataSource | undefined> {
  const inst = await findInstance(db, uuid);
  return inst ? sourceOf(db, inst, networkInfo) : undefined;
}

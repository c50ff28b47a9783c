// The config drive: whether an instance gets one (Nova's configdrive.required_by), the files on it (Nova's
// metadata_for_config_drive) and the ISO 9660 image with volume label config-2.
import { ec2Tree, metaDataJson, userDataBytes, vendorData2, type Ec2Dir, type Ec2Node } from "./documents.js";
import { buildIso9660, type IsoFile } from "./iso9660.js";
import { networkData } from "./network-data.js";
import type { InstanceMetadataSource, MetadataOptions } from "./types.js";
import { CONFIG_DRIVE_SKIP_EC2, EC2_VERSIONS, OPENSTACK_VERSIONS, OS, osAtLeast } from "./versions.js";

/** The volume label cloud-init and Nova's guests look for. */
export const CONFIG_DRIVE_LABEL = "config-2";

/** What decides whether an instance boots with a config drive. */
export interface ConfigDrivePolicyInput {
  /** The server's config_drive field ("True"/"" as stored, or a boolean). */
  configDrive: string | boolean | null | undefined;
  /** The image's properties (img_config_drive: "optional" | "mandatory"). */
  imageProperties?: Record<string, unknown>;
  /** Nova's force_config_drive option. */
  forceConfigDrive?: boolean;
  /** When the server was first launched: forcing applies only to servers not yet launched (as Nova). */
  launchedAt?: string | null;
}

/** Does the instance get a config drive? (user asked, operator forces it for new servers, or the image demands it) */
export function configDriveRequired(p: ConfigDrivePolicyInput): boolean {
  const asked =
    typeof p.configDrive === "boolean"
      ? p.configDrive
      : !!p.configDrive && !["false", "0", "no", "off"].includes(p.configDrive.toLowerCase());
  const imageProp = p.imageProperties?.img_config_drive;
  return asked || (!!p.forceConfigDrive && !p.launchedAt) || imageProp === "mandatory";
}

const enc = (v: unknown) => Buffer.from(JSON.stringify(v));

function stripKeyNames(md: Ec2Node | undefined): void {
  const keys = (md as Ec2Dir | undefined)?.["public-keys"] as Ec2Dir | undefined;
  const zero = keys?.["0"] as Ec2Dir | undefined;
  if (zero) delete zero._name;
}

/** Every file of the config drive, path → bytes, in Nova's layout (ec2/<v>/..., openstack/<v>/...). */
export function configDriveFiles(src: InstanceMetadataSource, o: MetadataOptions): IsoFile[] {
  const files: IsoFile[] = [];
  const ud = userDataBytes(src);
  for (const v of [...EC2_VERSIONS, "latest"]) {
    if (CONFIG_DRIVE_SKIP_EC2.has(v)) continue;
    const tree = ec2Tree(src, v === "latest" ? EC2_VERSIONS[EC2_VERSIONS.length - 1]! : v, o);
    if (ud) files.push({ path: `ec2/${v}/user-data`, data: ud });
    stripKeyNames(tree["meta-data"]);
    files.push({ path: `ec2/${v}/meta-data.json`, data: enc(tree["meta-data"]) });
  }
  for (const v of [...OPENSTACK_VERSIONS, "latest"]) {
    const rv = v === "latest" ? OPENSTACK_VERSIONS[OPENSTACK_VERSIONS.length - 1]! : v;
    files.push({ path: `openstack/${v}/meta_data.json`, data: enc(metaDataJson(src, rv, o)) });
    if (ud) files.push({ path: `openstack/${v}/user_data`, data: ud });
    if (osAtLeast(rv, OS.HAVANA))
      files.push({ path: `openstack/${v}/vendor_data.json`, data: enc(o.vendorData) });
    if (osAtLeast(rv, OS.LIBERTY))
      files.push({ path: `openstack/${v}/network_data.json`, data: enc(networkData(src.networkInfo)) });
    if (osAtLeast(rv, OS.NEWTON_TWO))
      files.push({ path: `openstack/${v}/vendor_data2.json`, data: enc(vendorData2(o)) });
  }
  return files;
}

/** The config drive image (ISO 9660 with Rock Ridge names, label config-2) of an instance. */
export function buildConfigDrive(
  src: InstanceMetadataSource,
  o: MetadataOptions,
  now: Date = new Date(),
): Buffer {
  return buildIso9660(configDriveFiles(src, o), { volumeId: CONFIG_DRIVE_LABEL, date: now });
}

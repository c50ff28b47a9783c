// What the qemu driver needs from the cloud around it, built from compute's own store and settings: the metadata
// of an instance (for its config drive and its metadata listener) and the image service (a service token). Also
// the default driver of `stratus up`: qemu whenever qemu-system-x86_64 is installed, else fake.
import { join } from "node:path";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { TokenSource } from "../shared/client/service-client.js";
import type { Config } from "../shared/config.js";
import { httpImageSource, type ImageSource } from "./drivers/qemu/driver-images.js";
import type { QemuDriverOptions, QemuMetadataProvider } from "./drivers/qemu/driver-core.js";
import { qemuAvailable } from "./drivers/qemu/process.js";
import { findInstance } from "./instances/store.js";
import { configDriveRequired } from "./metadata/config-drive.js";
import { sourceOf } from "./metadata/source.js";
import { DEFAULT_DHCP_DOMAIN } from "./metadata/types.js";

/** `stratus up`'s driver when none is configured: qemu when the emulator is installed. */
export function defaultComputeDriver(): "qemu" | "fake" {
  return qemuAvailable() ? "qemu" : "fake";
}

/** The metadata provider over compute's store (the metadata service at `serviceUrl`, signed with `secret`). */
export function metadataProvider(
  db: Kysely<any>,
  cfg: Config,
  service: { url: string; secret: string },
): QemuMetadataProvider {
  const m = cfg.compute.metadata;
  return {
    target: { serviceUrl: service.url, secret: service.secret },
    async describe(uuid) {
      const inst = await findInstance(db, uuid);
      if (!inst) return undefined;
      const source = await sourceOf(db, inst);
      const configDrive = configDriveRequired({
        configDrive: inst.config_drive,
        imageProperties: inst.request_spec?.image?.properties,
        forceConfigDrive: m?.forceConfigDrive,
        launchedAt: inst.launched_at,
      });
      return {
        source,
        configDrive,
        options: { dhcpDomain: m?.dhcpDomain ?? DEFAULT_DHCP_DOMAIN, vendorData: {} },
      };
    },
  };
}

/** Everything the cloud hands the qemu drivers it starts. */
export interface QemuHostContext {
  images?: ImageSource;
  metadata?: QemuMetadataProvider;
  log?: Logger;
}

/** The image service over HTTP at `baseUrl()` + /image, with a service token. */
export function serviceImageSource(baseUrl: () => string, token: TokenSource): ImageSource {
  return httpImageSource(() => `${baseUrl()}/image`, token);
}

/** The qemu driver's options for `host` from compute.qemu and the context. */
export function qemuDriverOptions(cfg: Config, host: string, ctx: QemuHostContext): QemuDriverOptions {
  const q = cfg.compute.qemu ?? {};
  return {
    stateDir: join(cfg.dataDir, "qemu", host),
    images: ctx.images,
    metadata: ctx.metadata,
    log: ctx.log,
    accel: q.accel ?? "auto",
    hostForwardSsh: q.hostForwardSsh ?? false,
    ...(q.softRebootTimeout !== undefined ? { softRebootTimeoutS: q.softRebootTimeout } : {}),
    ...(q.vcpus !== undefined ? { vcpus: q.vcpus } : {}),
    ...(q.memoryMb !== undefined ? { memoryMb: q.memoryMb } : {}),
    ...(q.diskGb !== undefined ? { diskGb: q.diskGb } : {}),
  };
}

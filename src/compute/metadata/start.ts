// Starting the metadata service in the control plane: the shared secret from DATA_DIR (or the environment) and
// the service on its own loopback listener, apart from the public API listener.
import { join } from "node:path";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Config } from "../../shared/config.js";
import { startMetadataService, type MetadataService } from "./service.js";
import { loadOrCreateSecret } from "./signing.js";
import { DEFAULT_DHCP_DOMAIN } from "./types.js";

/** The metadata service as the cloud runs it, with what proxies need to reach it. */
export interface RunningMetadata extends MetadataService {
  /** The secret proxies sign instance ids with. */
  secret: string;
}

/** The file holding the proxy secret (STRATUS_METADATA_SECRET overrides it, for agents on other machines). */
export const metadataSecretFile = (dataDir: string): string => join(dataDir, "metadata-proxy-secret");

/** The proxy secret: $STRATUS_METADATA_SECRET, else DATA_DIR/metadata-proxy-secret (created once). */
export function metadataSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.STRATUS_METADATA_SECRET;
  return fromEnv && fromEnv.length >= 16 ? fromEnv : loadOrCreateSecret(metadataSecretFile(dataDir));
}

/** Start the metadata service for the cloud (compute.metadata settings: host, port, dhcpDomain). */
export async function startMetadata(
  cfg: Config,
  db: Kysely<any>,
  log: Logger,
  secret = metadataSecret(cfg.dataDir),
): Promise<RunningMetadata> {
  const m = cfg.compute.metadata;
  const svc = await startMetadataService({
    db,
    log: log.child({ service: "metadata" }),
    secret,
    host: m?.host ?? "127.0.0.1",
    port: m?.port ?? 0,
    dhcpDomain: m?.dhcpDomain ?? DEFAULT_DHCP_DOMAIN,
  });
  return { ...svc, secret };
}

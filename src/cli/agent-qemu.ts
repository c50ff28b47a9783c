// What `stratus agent compute --compute-driver qemu` hands its driver, as `stratus up` does for its in-process agents:
// the image service, found in the service user's catalog and called with its token (compute.serviceUser), and the
// metadata service its guests reach through their per-instance listeners: another process's (compute.metadata.url,
// signed with the shared secret), or else one this agent serves itself on loopback from the shared database.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { ImageSource } from "../compute/drivers/qemu/driver-images.js";
import { httpImageSource } from "../compute/drivers/qemu/driver-images.js";
import type { QemuMetadataProvider } from "../compute/drivers/qemu/driver-core.js";
import { metadataSecretFile, startMetadata, type RunningMetadata } from "../compute/metadata/start.js";
import { metadataProvider } from "../compute/qemu-host.js";
import { KeystoneSessionError, keystoneSession } from "../shared/client/keystone-session.js";
import type { Config } from "../shared/config.js";

/** A failure the agent reports in one line before exiting with `code` (2: bad configuration). */
export class AgentQemuError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
    this.name = "AgentQemuError";
  }
}

/** The qemu driver's surroundings in an agent process; close() stops what the agent serves itself. */
export interface AgentQemuContext {
  images: ImageSource;
  metadata: QemuMetadataProvider;
  /** Where images and metadata come from, for the start-up banner. */
  summary: string;
  close(): Promise<void>;
}

/** The shared secret for a remote metadata service: $STRATUS_METADATA_SECRET or DATA_DIR/metadata-proxy-secret. */
function remoteMetadataSecret(cfg: Config, env: NodeJS.ProcessEnv): string {
  const fromEnv = env.STRATUS_METADATA_SECRET;
  if (fromEnv && fromEnv.length >= 16) return fromEnv;
  const file = metadataSecretFile(cfg.dataDir);
  const fromFile = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  if (fromFile.length >= 16) return fromFile;
  throw new AgentQemuError(
    `--metadata-url needs the metadata service's shared secret: set STRATUS_METADATA_SECRET (16 characters or more), or copy the control plane's DATA_DIR/metadata-proxy-secret to ${file}`,
    2,
  );
}

/** Check that something answers HTTP at `url` (the metadata service answers 400 to a request without headers). */
async function probe(url: string): Promise<void> {
  try {
    await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).arrayBuffer();
  } catch (e) {
    throw new AgentQemuError(
      `the metadata service at ${url} does not answer (${(e as Error).message}): fix --metadata-url, or leave it out to serve metadata from this agent`,
    );
  }
}

/** Authenticate the service user, find the image service, and set up the metadata service. */
export async function agentQemuContext(
  cfg: Config,
  db: Kysely<any>,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgentQemuContext> {
  const su = cfg.compute.serviceUser ?? {};
  if (!su.authUrl || !su.password)
    throw new AgentQemuError(
      "the qemu driver downloads images from the image service: pass --auth-url http://CONTROLLER/identity/v3 and a cloud admin's password in STRATUS_SERVICE_PASSWORD (or set compute.serviceUser in stratus.yaml)",
      2,
    );
  const session = keystoneSession({
    authUrl: su.authUrl,
    username: su.username ?? "admin",
    password: su.password,
    projectName: su.projectName ?? "admin",
    userDomainName: su.userDomainName ?? "Default",
    projectDomainName: su.projectDomainName ?? "Default",
    region: cfg.region,
    interface: su.interface ?? "public",
  });
  let imageUrl: string;
  try {
    imageUrl = await session.endpoint("image");
  } catch (e) {
    if (e instanceof KeystoneSessionError)
      throw new AgentQemuError(
        `${e.message}; check that the control plane runs, and --auth-url, --auth-user, --auth-project and STRATUS_SERVICE_PASSWORD (compute.serviceUser)`,
      );
    throw e;
  }
  const images = httpImageSource(() => session.endpoint("image"), session.token);
  const remote = cfg.compute.metadata?.url?.replace(/\/+$/, "");
  let own: RunningMetadata | undefined;
  let target: { url: string; secret: string };
  if (remote) {
    target = { url: remote, secret: remoteMetadataSecret(cfg, env) };
    await probe(remote);
  } else {
    // Proxies and service both live in this process: a secret of its own, kept nowhere.
    target = own = await startMetadata(cfg, db, log, randomBytes(32).toString("hex"));
  }
  return {
    images,
    metadata: metadataProvider(db, cfg, target),
    summary: `images from ${imageUrl} as ${su.username ?? "admin"}, metadata ${own ? `served here at ${own.url}` : `from ${remote}`}`,
    close: async () => {
      await own?.close();
    },
  };
}

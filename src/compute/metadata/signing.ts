// The trust between the metadata proxy and the metadata service (OSSA-2013-033): the proxy, which knows from
// the network which instance is calling, sends X-Instance-ID with an HMAC-SHA256 of it under a shared secret
// (Neutron's metadata_proxy_shared_secret), hex encoded; the service recomputes and compares in constant time.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** The request headers a proxy adds. */
export const INSTANCE_ID_HEADER = "x-instance-id";
export const TENANT_ID_HEADER = "x-tenant-id";
export const SIGNATURE_HEADER = "x-instance-id-signature";
export const FORWARDED_FOR_HEADER = "x-forwarded-for";

/** Hex HMAC-SHA256 of the instance id under the shared secret. */
export const signInstanceId = (secret: string, instanceId: string): string =>
  createHmac("sha256", secret).update(instanceId, "utf8").digest("hex");

/** Does `signature` sign `instanceId` under `secret`? (constant time) */
export function verifyInstanceId(secret: string, instanceId: string, signature: string): boolean {
  const want = Buffer.from(signInstanceId(secret, instanceId), "utf8");
  const got = Buffer.from(signature, "utf8");
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The headers identifying an instance to the metadata service. */
export function identityHeaders(
  secret: string,
  who: { instanceId: string; projectId: string; address?: string },
): Record<string, string> {
  return {
    [INSTANCE_ID_HEADER]: who.instanceId,
    [TENANT_ID_HEADER]: who.projectId,
    [SIGNATURE_HEADER]: signInstanceId(secret, who.instanceId),
    ...(who.address ? { [FORWARDED_FOR_HEADER]: who.address } : {}),
  };
}

/** The shared secret kept in `file` (created once, mode 0600, 32 random bytes hex). */
export function loadOrCreateSecret(file: string): string {
  if (existsSync(file)) {
    const s = readFileSync(file, "utf8").trim();
    if (s.length >= 16) return s;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("hex");
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    // Another process (an agent beside the control plane) created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return readFileSync(file, "utf8").trim();
    throw e;
  }
  return secret;
}

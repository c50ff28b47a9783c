// Volumes of encrypted types: Stratus has no key manager (Cinder's Castellan/Barbican), so it cannot make the key
// an encrypted volume needs. A volume of a type with encryption specs is refused with a 400 at the API (create,
// retype, restore to a new volume), never made unencrypted.
import type { VolumeCore } from "./core.js";
import { badRequest } from "./errors.js";
import { getEncryption } from "./store/encryption.js";

/** 400 when the volume type has encryption specs (no key manager to create the volume's key). */
export async function refuseEncryptedType(core: VolumeCore, typeId: string | null): Promise<void> {
  if (typeId === null || !(await getEncryption(core, typeId))) return;
  throw badRequest(
    `Invalid volume type: volume type ${typeId} has encryption specs, and no key manager is configured to create ` +
      "an encryption key: this cloud cannot create encrypted volumes.",
  );
}

// /v3/{project}/types/{type_id}/encryption: a volume type's encryption specs (provider, cipher, key size, control
// location), admin only, as Cinder's volume_type_encryption extension: GET shows them ({} when none), GET .../{key}
// one of them, POST creates, PUT .../{encryption_id} updates, DELETE .../{encryption_id} removes; none of the
// writes is allowed while volumes of the type exist. Stratus has no key manager: such a type is refused at volume
// create (see ../encryption.ts).
import { Type } from "@sinclair/typebox";
import { nowIso } from "../../shared/db/index.js";
import { isUniqueViolation } from "../../shared/db/index.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { VolumeCore } from "../core.js";
import { badRequest, invalidInput, notFound, typeNotFound } from "../errors.js";
import {
  deleteEncryption,
  getEncryption,
  insertEncryption,
  typeInUse,
  updateEncryption,
  type EncryptionRow,
  type EncryptionSpecs,
} from "../store/encryption.js";
import { getType } from "../store/types.js";
import { isoTime, type Ctx } from "./common.js";

const BASE = "/v3/:project_id/types/:type_id/encryption";
const INT_MAX = 2 ** 31 - 1;

/** Cinder's control locations. */
export const CONTROL_LOCATIONS = ["front-end", "back-end"] as const;

/** Cinder's encryption body: closed; provider and control location required on create only. */
const specsBody = (create: boolean) =>
  Type.Object(
    {
      encryption: Type.Object(
        {
          key_size: Type.Optional(
            Type.Unsafe<number | string | null>({
              type: ["integer", "string", "null"],
              minimum: 0,
              maximum: INT_MAX,
              pattern: "^[0-9]{1,10}$",
            }),
          ),
          provider: create ? Type.String({ maxLength: 255 }) : Type.Optional(Type.String({ maxLength: 255 })),
          control_location: create
            ? Type.Unsafe<string>({ enum: [...CONTROL_LOCATIONS] })
            : Type.Optional(Type.Unsafe<string>({ enum: [...CONTROL_LOCATIONS] })),
          cipher: Type.Optional(Type.Unsafe<string | null>({ type: ["string", "null"], maxLength: 255 })),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  );

/** The specs a body sets, key_size as an integer (Cinder takes digit strings too). */
function specsOf(e: Record<string, unknown>): EncryptionSpecs {
  const out: EncryptionSpecs = {};
  if (e.provider !== undefined) out.provider = e.provider as string;
  if (e.control_location !== undefined) out.control_location = e.control_location as string;
  if (e.cipher !== undefined) out.cipher = e.cipher as string | null;
  if (e.key_size !== undefined && e.key_size !== null) {
    const n = Number(e.key_size);
    if (!Number.isInteger(n) || n < 0 || n > INT_MAX) throw invalidInput("key_size must be an integer.");
    out.key_size = n;
  } else if (e.key_size === null) out.key_size = null;
  return out;
}

/** GET's view of a row (Cinder's Encryption model as a dict). */
const view = (r: EncryptionRow) => ({
  volume_type_id: r.volume_type_id,
  encryption_id: r.encryption_id,
  provider: r.provider,
  cipher: r.cipher,
  key_size: r.key_size,
  control_location: r.control_location,
  created_at: isoTime(r.created_at),
  updated_at: isoTime(r.updated_at),
  deleted: false,
  deleted_at: null,
});

/** 404 VolumeTypeEncryptionNotFound. */
const encryptionNotFound = (typeId: string) =>
  notFound(`Volume type encryption for type ${typeId} does not exist.`);

/** The URL's volume type (by id, as Cinder's encryption controller looks it up), or 404. */
async function typeIdOf(core: VolumeCore, ctx: Ctx): Promise<string> {
  const t = await getType(core, ctx.params.type_id);
  if (!t) throw typeNotFound(ctx.params.type_id);
  return t.id;
}

/** 400 when volumes of the type exist (`what`: create, update or delete). */
async function notInUse(core: VolumeCore, typeId: string, what: string): Promise<void> {
  if (await typeInUse(core, typeId)) throw badRequest(`Cannot ${what} encryption specs. Volume type in use.`);
}

/** Routes of a volume type's encryption. */
export function typeEncryptionRoutes(core: VolumeCore): Route[] {
  return [
    route({
      method: "GET",
      path: BASE,
      policy: "volume_extension:volume_type_encryption:get",
      handler: async (ctx) => {
        const e = await getEncryption(core, await typeIdOf(core, ctx));
        return e ? view(e) : {};
      },
    }),
    route({
      method: "GET",
      path: `${BASE}/:key`,
      policy: "volume_extension:volume_type_encryption:get",
      handler: async (ctx) => {
        const typeId = await typeIdOf(core, ctx);
        const e = await getEncryption(core, typeId);
        const v = e ? new Map(Object.entries(view(e))) : new Map<string, unknown>();
        if (!v.has(ctx.params.key)) throw encryptionNotFound(typeId);
        return { [ctx.params.key]: v.get(ctx.params.key) };
      },
    }),
    route({
      method: "POST",
      path: BASE,
      policy: "volume_extension:volume_type_encryption:create",
      body: specsBody(true),
      handler: async (ctx) => {
        const specs = specsOf(ctx.body.encryption);
        await notInUse(core, ctx.params.type_id, "create");
        const typeId = await typeIdOf(core, ctx);
        const exists = badRequest(`Volume type encryption for type ${typeId} already exists.`);
        if (await getEncryption(core, typeId)) throw exists;
        const row: EncryptionRow = {
          volume_type_id: typeId,
          encryption_id: core.newId(),
          provider: specs.provider!,
          cipher: specs.cipher ?? null,
          key_size: specs.key_size ?? null,
          control_location: specs.control_location!,
          created_at: nowIso(),
          updated_at: null,
        };
        try {
          await insertEncryption(core, row);
        } catch (err) {
          if (isUniqueViolation(err)) throw exists;
          throw err;
        }
        return { encryption: { ...specs, volume_type_id: typeId, encryption_id: row.encryption_id } };
      },
    }),
    route({
      method: "PUT",
      path: `${BASE}/:encryption_id`,
      policy: "volume_extension:volume_type_encryption:update",
      body: specsBody(false),
      handler: async (ctx) => {
        const specs = specsOf(ctx.body.encryption);
        const typeId = await typeIdOf(core, ctx);
        await notInUse(core, typeId, "update");
        if (!(await updateEncryption(core, typeId, { ...specs, updated_at: nowIso() })))
          throw encryptionNotFound(typeId);
        return { encryption: specs };
      },
    }),
    route({
      method: "DELETE",
      path: `${BASE}/:encryption_id`,
      policy: "volume_extension:volume_type_encryption:delete",
      handler: async (ctx) => {
        await notInUse(core, ctx.params.type_id, "delete");
        const typeId = await typeIdOf(core, ctx);
        if (!(await deleteEncryption(core, typeId))) throw encryptionNotFound(typeId);
        return reply(202, undefined);
      },
    }),
  ];
}

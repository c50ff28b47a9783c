import { createHash } from "node:crypto";
import { Type } from "@sinclair/typebox";
import { badRequest } from "../../shared/http/errors.js";
import { parseJsonBody } from "../../shared/http/json.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import {
  createCredential,
  deleteCredential,
  findCredential,
  getCredential,
  listCredentials,
  updateCredential,
  type Credential,
} from "../store/credentials.js";
import { OpenObject, Wrap, collectionLinks, extras, selfLink } from "./common.js";

const KNOWN = ["id", "user_id", "project_id", "type", "blob", "links"];
const CredentialCreate = Wrap(
  "credential",
  OpenObject({
    blob: Type.String(),
    type: Type.String({ maxLength: 255 }),
    user_id: Type.String({ maxLength: 64 }),
    project_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  }),
);
const CredentialUpdate = Wrap(
  "credential",
  OpenObject({
    blob: Type.Optional(Type.String()),
    type: Type.Optional(Type.String({ maxLength: 255 })),
    user_id: Type.Optional(Type.String({ maxLength: 64 })),
    project_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  }),
);

/** Keystone's JSON view of a credential (the blob is a JSON string, as stored). */
export function renderCredential(ctx: RequestCtx<any, any, any>, c: Credential): Record<string, unknown> {
  return {
    ...c.extra,
    id: c.id,
    user_id: c.user_id,
    project_id: c.project_id,
    type: c.type,
    blob: c.blob,
    links: selfLink(ctx, `credentials/${c.id}`),
  };
}

const isEc2 = (type: string | undefined): boolean => (type ?? "").toLowerCase() === "ec2";

/** An EC2 blob must be a JSON object with an access key. */
function ec2Blob(blob: string): Record<string, unknown> {
  const parsed = parseJsonBody(blob, "Invalid blob in credential");
  const invalid = (attr: string) =>
    badRequest(
      `Expecting to find ${attr} in credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
    );
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || !Object.keys(parsed).length)
    throw invalid("blob");
  const b = parsed as Record<string, unknown>;
  if (b.access === undefined || b.access === null) throw invalid("access");
  return b;
}

/** Routes for /v3/credentials. */
export function credentialRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const credTarget = (c: Pick<Credential, "user_id" | "project_id"> | null) => ({
    "target.credential.user_id": c?.user_id ?? null,
    "target.credential.project_id": c?.project_id ?? null,
  });
  const target = async (ctx: RequestCtx<any, any, Record<string, string>>) =>
    credTarget(await findCredential(core, ctx.params.credential_id));
  return [
    route({
      method: "GET",
      path: "/v3/credentials",
      policy: "identity:list_credentials",
      target: (ctx) => (ctx.auth?.system ? {} : { "target.credential.user_id": ctx.auth?.userId ?? null }),
      handler: async (ctx) => {
        const creds = await listCredentials(core, { user_id: ctx.query.user_id, type: ctx.query.type });
        // Like Keystone, show only the credentials the caller may get.
        const visible = creds.filter((c) => ctx.allowed("identity:get_credential", credTarget(c)));
        return { credentials: visible.map((c) => renderCredential(ctx, c)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/credentials",
      policy: "identity:create_credential",
      target: (ctx) =>
        credTarget({
          user_id: ctx.body.credential.user_id,
          project_id: ctx.body.credential.project_id ?? null,
        }),
      body: CredentialCreate,
      handler: async (ctx) => {
        const b = ctx.body.credential;
        let blob = b.blob;
        let id: string | undefined;
        if (isEc2(b.type)) {
          const parsed = ec2Blob(blob);
          id = createHash("sha256").update(String(parsed.access), "utf8").digest("hex");
          // A credential made with an application-credential token yields app-cred-scoped EC2 tokens (Keystone).
          if (ctx.auth?.appCredId) blob = JSON.stringify({ ...parsed, app_cred_id: ctx.auth.appCredId });
        }
        const c = await createCredential(core, {
          id,
          user_id: b.user_id,
          project_id: b.project_id ?? null,
          type: b.type,
          blob,
          extra: extras(b, KNOWN),
        });
        return reply(201, { credential: renderCredential(ctx, c) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/credentials/:credential_id",
      policy: "identity:get_credential",
      target,
      handler: async (ctx) => ({
        credential: renderCredential(ctx, await getCredential(core, ctx.params.credential_id)),
      }),
    }),
    route({
      method: "PATCH",
      path: "/v3/credentials/:credential_id",
      policy: "identity:update_credential",
      target,
      body: CredentialUpdate,
      handler: async (ctx) => {
        const current = await getCredential(core, ctx.params.credential_id);
        const b = ctx.body.credential;
        const bodyId = (b as Record<string, unknown>).id;
        if (bodyId !== undefined && bodyId !== null && bodyId !== current.id)
          throw badRequest("Cannot change ID");
        if (isEc2(current.type) && b.blob !== undefined) {
          const next = ec2Blob(b.blob);
          const old = (() => {
            try {
              return JSON.parse(current.blob) as Record<string, unknown>;
            } catch {
              return {} as Record<string, unknown>;
            }
          })();
          for (const key of ["trust_id", "app_cred_id", "access_token_id", "access_id"])
            if (old[key] !== next[key]) throw badRequest(`${key} can not be updated for credential`);
        }
        // The caller must also be allowed to act on the credential as it will be (no moving it to another user).
        ctx.authorize(
          "identity:update_credential",
          credTarget({
            user_id: b.user_id ?? current.user_id,
            project_id: b.project_id === undefined ? current.project_id : b.project_id,
          }),
        );
        const c = await updateCredential(core, current, {
          user_id: b.user_id,
          project_id: b.project_id,
          type: b.type,
          blob: b.blob,
          extra: extras(b, KNOWN),
        });
        return { credential: renderCredential(ctx, c) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/credentials/:credential_id",
      policy: "identity:delete_credential",
      target,
      handler: async (ctx) => {
        await getCredential(core, ctx.params.credential_id);
        await deleteCredential(core, ctx.params.credential_id);
        return noContent();
      },
    }),
  ];
}

// Keystone's ec2tokens and s3tokens: a service that received a request signed with an EC2 key pair sends what was
// signed and the signature; identity finds the secret, checks the signature and answers with a project-scoped token
// for the key pair's user and project. s3tokens takes the string to sign (base64) as Swift's s3token middleware sends
// it; ec2tokens takes the request's parts and rebuilds the SigV4 canonical request itself.
import { Type } from "@sinclair/typebox";
import { ApiError } from "../../shared/http/errors.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import {
  V4_ALGORITHM,
  canonicalRequest,
  sameSignature,
  signAny,
  stringToSignV4,
} from "../../shared/auth/aws-signature.js";
import type { IdentityService } from "../service.js";
import { findEc2Credential, toEc2 } from "../store/ec2.js";
import { renderToken } from "../tokens/view.js";

const Str = (max: number) => Type.String({ maxLength: max });

/** s3tokens: {"credentials": {"access", "token" (base64 string to sign), "signature"}}. */
const S3Body = Type.Object({
  credentials: Type.Object(
    { access: Str(255), token: Str(16384), signature: Str(255) },
    { additionalProperties: true },
  ),
});

/** ec2tokens: {"credentials": {"access", "signature", "host", "verb", "path", "params", "headers", "body_hash"}}. */
const Ec2Creds = Type.Object(
  {
    access: Str(255),
    signature: Type.Optional(Str(255)),
    host: Type.Optional(Str(1024)),
    verb: Type.Optional(Str(16)),
    path: Type.Optional(Str(8192)),
    params: Type.Optional(Type.Record(Type.String(), Str(8192), { maxProperties: 100 })),
    headers: Type.Optional(Type.Record(Type.String(), Str(8192), { maxProperties: 100 })),
    body_hash: Type.Optional(Str(128)),
  },
  { additionalProperties: true },
);
const Ec2Body = Type.Union([
  Type.Object({ credentials: Ec2Creds }),
  Type.Object({ ec2Credentials: Ec2Creds }),
]);

const unauthorized = (message: string) => new ApiError(401, message);

/** Key pairs whose last token is kept for reuse (the map is cleared past this many). */
const MAX_REUSED = 10_000;
/** A kept token is reused only while it has more than this left to live. */
const REUSE_MARGIN_MS = 10 * 60 * 1000;

/** Parse `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` into its fields. */
function v4Fields(authz: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of authz.slice(V4_ALGORITHM.length).split(",")) {
    const i = part.indexOf("=");
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

/** The SigV4 string to sign of an ec2tokens request (Authorization header or presigned query), or a 401. */
function ec2StringToSign(c: {
  verb?: string;
  path?: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  body_hash?: string;
}): { stringToSign: string; signature?: string } {
  const headers = new Map(Object.entries(c.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const params = Object.entries(c.params ?? {});
  const authz = headers.get("authorization") ?? "";
  let scope: string;
  let signed: string[];
  let date: string;
  let signature: string | undefined;
  let query = params;
  if (authz.startsWith(`${V4_ALGORITHM} `)) {
    const f = v4Fields(authz);
    const cred = (f.get("Credential") ?? "").split("/");
    scope = cred.slice(1).join("/");
    signed = (f.get("SignedHeaders") ?? "").split(";");
    date = headers.get("x-amz-date") ?? "";
    signature = f.get("Signature");
  } else if (params.some(([k, v]) => k === "X-Amz-Algorithm" && v === V4_ALGORITHM)) {
    const p = new Map(params);
    scope = (p.get("X-Amz-Credential") ?? "").split("/").slice(1).join("/");
    signed = (p.get("X-Amz-SignedHeaders") ?? "").split(";");
    date = p.get("X-Amz-Date") ?? "";
    signature = p.get("X-Amz-Signature");
    query = params.filter(([k]) => k !== "X-Amz-Signature");
  } else throw unauthorized("EC2 signature version not supported: only AWS Signature Version 4.");
  if (!headers.has("host") && c.verb) headers.set("host", "");
  const canonical = canonicalRequest({
    method: c.verb ?? "GET",
    path: c.path ?? "/",
    query,
    headers,
    signedHeaders: signed.filter((s) => s !== ""),
    payloadHash: c.body_hash ?? "",
  });
  return { stringToSign: stringToSignV4(date, scope, canonical), signature };
}

/** Routes POST /v3/ec2tokens and POST /v3/s3tokens (no token: the signature is the authentication). */
export function ec2TokenRoutes(svc: IdentityService): Route[] {
  /** Check the signature against the key pair's secret and issue a token for its user and project. */
  const authenticate = async (access: string, stringToSign: string, signature: string | undefined) => {
    if (!signature) throw unauthorized("EC2 signature not supplied.");
    const stored = await findEc2Credential(svc.core, access);
    if (!stored) throw unauthorized("EC2 access key not found.");
    const ec2 = toEc2(stored);
    const expected = ec2.secret === null ? null : signAny(ec2.secret, stringToSign);
    if (expected === null || !sameSignature(expected, signature))
      throw unauthorized("Invalid EC2 signature.");
    const { id, view } =
      (await reuse(stored.id)) ??
      (await svc.tokens.issueForEc2({
        userId: stored.user_id,
        projectId: stored.project_id ?? "",
        trustId: ec2.trust_id,
      }));
    if (!recent.has(stored.id) && recent.size >= MAX_REUSED) recent.clear();
    recent.set(stored.id, id);
    return reply(200, renderToken(view, await svc.tokens.catalogEntries()), { "x-subject-token": id });
  };
  /**
   * The token last issued for a key pair, while it is still valid (revocation and role changes included) for more
   * than REUSE_MARGIN_MS: every S3 request is signed anew, and reusing its token spares issuing one per request
   * and lets the object service's token cache answer (s3token caches the same way, by access key).
   */
  const recent = new Map<string, string>();
  const reuse = async (credId: string) => {
    const id = recent.get(credId);
    if (id === undefined) return null;
    try {
      const view = await svc.tokens.validate(id);
      if (view.payload.expiresAt - Date.now() > REUSE_MARGIN_MS) return { id, view };
    } catch {
      // Revoked, expired or no longer valid: a new one is issued.
    }
    recent.delete(credId);
    return null;
  };
  return [
    route({
      method: "POST",
      path: "/v3/s3tokens",
      policy: null,
      auth: "none",
      body: S3Body,
      handler: async (ctx) => {
        const c = ctx.body.credentials;
        return authenticate(c.access, Buffer.from(c.token, "base64").toString("utf8"), c.signature);
      },
    }),
    route({
      method: "POST",
      path: "/v3/ec2tokens",
      policy: null,
      auth: "none",
      body: Ec2Body,
      handler: async (ctx) => {
        const c = "credentials" in ctx.body ? ctx.body.credentials : ctx.body.ec2Credentials;
        const { stringToSign, signature } = ec2StringToSign(c);
        return authenticate(c.access, stringToSign, c.signature ?? signature);
      },
    }),
  ];
}

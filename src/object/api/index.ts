import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { ObjectCore } from "../core.js";
import { manageAccount, postAccount, readAccount } from "./account.js";
import { createContainer, postContainer, readContainer, removeContainer } from "./container.js";
import { info } from "./info.js";
import { copyObject, deleteObject, postObject, putObject, readObject } from "./object.js";
import { swiftPath, type Ctx } from "./request.js";
import { preflight, withCors } from "./cors.js";
import { staticWeb } from "./staticweb.js";
import { checkTempUrl } from "./tempurl.js";
import { formBoundary, formPost } from "./formpost.js";
import { checkSyncRequest } from "./container-sync.js";
import {
  withVersionId,
  withVersionsEnabled,
  withVersionsListing,
  withVersionsRemoved,
} from "./versions-routes.js";

/**
 * A Swift route: names come from the raw URL, every body is a stream, and authorization (keystoneauth's) is the
 * handler's, after the token was validated, so that container ACLs can extend it; temporary URLs stand in for a
 * token.
 */
const swift = (
  method: Route["method"],
  path: string,
  handler: (ctx: Ctx, core: ObjectCore) => Promise<unknown> | unknown,
  core: ObjectCore,
): Route =>
  route({
    method,
    path,
    policy: null,
    auth: "optional",
    stream: "any",
    handler: (ctx) => serve(ctx, core, handler),
  });

/** Serve a Swift request: form uploads, temporary URLs, sync requests and websites first, then the handler. */
async function serve(
  ctx: Ctx,
  core: ObjectCore,
  handler: (ctx: Ctx, core: ObjectCore) => Promise<unknown> | unknown,
): Promise<unknown> {
  const path = swiftPath(ctx, core);
  // A form upload (FormPOST) is signed in its body, not by a token.
  const boundary = path.container !== undefined ? formBoundary(ctx) : undefined;
  if (boundary !== undefined) return formPost(ctx, core, path, boundary);
  // A temporary URL (temp_url_sig in the query) is checked first: valid, it lets the request in.
  await checkTempUrl(ctx, core, path);
  // A container sync request (sync key or realm signature) stands in for a token in its container.
  await checkSyncRequest(ctx, core, path);
  // A website request (no token) to a web-enabled container is staticweb's.
  const web = await staticWeb(ctx, core, path, readObject);
  if (web !== undefined) return web;
  return withCors(ctx, core, path, await handler(ctx, core));
}

/** Swift's default cross-domain policy document. */
const CROSSDOMAIN_POLICY =
  '<?xml version="1.0"?>\n<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n' +
  '<cross-domain-policy>\n<allow-access-from domain="*" secure="false" />\n</cross-domain-policy>';

/** The Swift v1 API below /object-store. */
export function objectRoutes(core: ObjectCore): Route[] {
  const A = "/v1/:account";
  const C = `${A}/:container`;
  const O = `${C}/*`;
  return [
    // Swift's crossdomain middleware: the default Flash cross-domain policy, at the root of the service.
    route({
      method: "GET",
      path: "/crossdomain.xml",
      policy: null,
      auth: "none",
      handler: () => reply(200, CROSSDOMAIN_POLICY, { "content-type": "application/xml; charset=UTF-8" }),
    }),
    // Swift's healthcheck middleware, at the root of the service.
    route({
      method: "GET",
      path: "/healthcheck",
      policy: null,
      auth: "none",
      handler: () => reply(200, "OK", { "content-type": "text/plain" }),
    }),
    route({
      method: "GET",
      path: "/info",
      policy: null,
      auth: "none",
      handler: () => reply(200, info(core), { "content-type": "application/json; charset=utf-8" }),
    }),
    // CORS preflights (and plain OPTIONS) need no token.
    ...[A, C, O].map((path) =>
      route({
        method: "OPTIONS",
        path,
        policy: null,
        auth: "none",
        stream: "any",
        handler: (ctx) => preflight(ctx, core),
      }),
    ),
    swift(["GET", "HEAD"], A, readAccount, core),
    swift("POST", A, postAccount, core),
    swift(["PUT", "DELETE"], A, manageAccount, core),
    swift(["GET", "HEAD"], C, withVersionsListing(readContainer), core),
    swift("PUT", C, withVersionsEnabled(createContainer), core),
    swift("POST", C, withVersionsEnabled(postContainer), core),
    swift("DELETE", C, withVersionsRemoved(removeContainer), core),
    swift(["GET", "HEAD"], O, withVersionId(readObject), core),
    swift("PUT", O, withVersionId(putObject), core),
    swift("POST", O, withVersionId(postObject), core),
    swift("DELETE", O, withVersionId(deleteObject), core),
    swift("COPY", O, withVersionId(copyObject), core),
  ];
}

import { Type } from "@sinclair/typebox";
import { badRequest } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import {
  createConsumer,
  deleteConsumer,
  getConsumer,
  listConsumers,
  updateConsumer,
  type Consumer,
} from "../store/oauth.js";
import { NStr, OpenObject, Wrap, collectionLinks, extras, selfLink } from "./common.js";

const KNOWN = ["id", "description", "secret", "links"];
const ConsumerCreate = Wrap("consumer", OpenObject({ description: Type.Optional(NStr()) }));
const ConsumerUpdate = Wrap(
  "consumer",
  Type.Object({ description: Type.Optional(NStr()) }, { additionalProperties: true, minProperties: 1 }),
);

/** Keystone's view of a consumer; the secret only on creation. */
function renderConsumer(ctx: RequestCtx<any, any, any>, c: Consumer, withSecret = false) {
  return {
    ...c.extra,
    id: c.id,
    description: c.description,
    ...(withSecret ? { secret: c.secret } : {}),
    links: selfLink(ctx, `OS-OAUTH1/consumers/${c.id}`),
  };
}

/** Routes for /v3/OS-OAUTH1/consumers (the rest of OAuth1 is not offered). */
export function oauthRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  return [
    route({
      method: "GET",
      path: "/v3/OS-OAUTH1/consumers",
      policy: "identity:list_consumers",
      handler: async (ctx) => ({
        consumers: (await listConsumers(core)).map((c) => renderConsumer(ctx, c)),
        links: collectionLinks(ctx),
      }),
    }),
    route({
      method: "POST",
      path: "/v3/OS-OAUTH1/consumers",
      policy: "identity:create_consumer",
      body: ConsumerCreate,
      handler: async (ctx) => {
        const b = ctx.body.consumer;
        const c = await createConsumer(core, { description: b.description ?? null, extra: extras(b, KNOWN) });
        return reply(201, { consumer: renderConsumer(ctx, c, true) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/OS-OAUTH1/consumers/:consumer_id",
      policy: "identity:get_consumer",
      handler: async (ctx) => ({
        consumer: renderConsumer(ctx, await getConsumer(core, ctx.params.consumer_id)),
      }),
    }),
    route({
      method: "PATCH",
      path: "/v3/OS-OAUTH1/consumers/:consumer_id",
      policy: "identity:update_consumer",
      body: ConsumerUpdate,
      handler: async (ctx) => {
        const b = ctx.body.consumer as Record<string, unknown> & { description?: string | null };
        if ("secret" in b)
          throw badRequest("Invalid input for field 'secret': the secret cannot be changed.");
        if (b.id !== undefined && b.id !== null && b.id !== ctx.params.consumer_id)
          throw badRequest("Cannot change ID");
        const c = await getConsumer(core, ctx.params.consumer_id);
        const updated = await updateConsumer(core, c, {
          description: b.description,
          extra: extras(b, KNOWN),
        });
        return { consumer: renderConsumer(ctx, updated) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/OS-OAUTH1/consumers/:consumer_id",
      policy: "identity:delete_consumer",
      handler: async (ctx) => {
        await deleteConsumer(core, ctx.params.consumer_id);
        return noContent();
      },
    }),
  ];
}

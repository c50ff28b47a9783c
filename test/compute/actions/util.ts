// Helpers for the server action tests: boot a cloud whose image API is reachable over HTTP (agents upload
// snapshots with fetch), post actions, wait for tasks, and read rows, actions and allocations.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { bootCompute, type BootComputeOptions, type ComputeCloud } from "../api/helpers.js";
import type { Res } from "../../helpers/cloud.js";
import { WAIT_MS } from "../../helpers/wait.js";

export { eventually, until } from "../../helpers/wait.js";

/** A compute test cloud with helpers for actions. */
export interface ActionCloud extends ComputeCloud {
  /** POST /servers/{id}/action with `body`. */
  act(token: string, id: string, body: unknown, mv?: string): Promise<Res>;
  /** The compute_instance row. */
  row(id: string): Promise<Record<string, any>>;
  /** Wait until the row has no task (and, when given, this vm_state). */
  settle(id: string, vmState?: string, timeoutMs?: number): Promise<Record<string, any>>;
  /** Action names recorded for a server, oldest first, with their events. */
  actions(
    id: string,
  ): Promise<Array<{ action: string; events: Array<{ event: string; result: string | null }> }>>;
  /** Placement allocations of a consumer, by provider uuid. */
  allocations(consumer: string): Promise<Record<string, { resources: Record<string, number> }>>;
  /** The compute node (resource provider) uuid of a host. */
  nodeOf(host: string): Promise<string>;
  /** GET on the image API as admin. */
  image(path: string): Promise<Res>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Boot with in-process fake hosts, and a small HTTP front on an ephemeral port that hands requests to the cloud
 * (the test cloud does not listen), so that the public URL agents upload snapshots to answers.
 */
export async function bootActions(opts: BootComputeOptions = {}): Promise<ActionCloud> {
  const to: { app?: ComputeCloud["t"]["cloud"]["app"] } = {};
  const front: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      if (!to.app) return res.writeHead(503).end();
      to.app
        .inject({
          method: req.method as any,
          url: req.url ?? "/",
          headers: req.headers as Record<string, string>,
          payload: Buffer.concat(chunks),
        })
        .then((r) => {
          res.writeHead(r.statusCode, r.headers as Record<string, string>);
          res.end(r.rawPayload);
        })
        .catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  const port = (front.address() as AddressInfo).port;
  const c = await bootCompute({
    ...opts,
    config: {
      publicUrl: `http://127.0.0.1:${port}`,
      // The *-amqp.test.ts files rerun these suites over RabbitMQ.
      ...(process.env.STRATUS_TEST_BUS ? { bus: process.env.STRATUS_TEST_BUS } : {}),
      ...(opts.config ?? {}),
    },
  });
  to.app = c.t.cloud.app;
  const app = to.app;
  const db = c.t.cloud.db.kysely;
  const row = async (id: string) =>
    (await db
      .selectFrom("compute_instance")
      .selectAll()
      .where("uuid", "=", id)
      .executeTakeFirstOrThrow()) as Record<string, any>;
  const placement = async (path: string) => {
    const r = await app.inject({
      method: "GET",
      url: `/placement${path}`,
      headers: { "x-auth-token": c.admin, "openstack-api-version": "placement 1.39" },
    });
    return JSON.parse(r.payload);
  };
  return {
    ...c,
    act: (token, id, body, mv) =>
      c.req("POST", `/v2.1/servers/${id}/action`, { token, body, ...(mv ? { mv } : {}) }),
    row,
    async settle(id, vmState, timeoutMs = WAIT_MS) {
      const end = Date.now() + timeoutMs;
      let last: Record<string, any> = {};
      while (Date.now() < end) {
        last = await row(id);
        if (last.task_state === null && (!vmState || last.vm_state === vmState)) return last;
        await sleep(10);
      }
      throw new Error(
        `server ${id} did not settle${vmState ? ` in ${vmState}` : ""}: ${last.vm_state}/${last.task_state}`,
      );
    },
    async actions(id) {
      const acts = (await db
        .selectFrom("compute_instance_action")
        .select(["id", "action"])
        .where("instance_uuid", "=", id)
        .orderBy("id")
        .execute()) as Array<{ id: number; action: string }>;
      const out = [];
      for (const a of acts) {
        const events = (await db
          .selectFrom("compute_instance_action_event")
          .select(["event", "result"])
          .where("action_id", "=", a.id)
          .orderBy("id")
          .execute()) as Array<{ event: string; result: string | null }>;
        out.push({ action: a.action, events });
      }
      return out;
    },
    async allocations(consumer) {
      const all = (await placement(`/allocations/${consumer}`)).allocations as Record<
        string,
        { resources: any }
      >;
      return Object.fromEntries(Object.entries(all).map(([rp, a]) => [rp, { resources: a.resources }]));
    },
    async nodeOf(host) {
      const r = (await db
        .selectFrom("compute_node")
        .select("uuid")
        .where("host", "=", host)
        .executeTakeFirstOrThrow()) as {
        uuid: string;
      };
      return r.uuid;
    },
    async image(path) {
      const r = await app.inject({
        method: "GET",
        url: `/image${path}`,
        headers: { "x-auth-token": c.admin, accept: "application/json" },
      });
      return {
        status: r.statusCode,
        headers: r.headers,
        body: r.payload ? JSON.parse(r.payload) : undefined,
        text: r.payload,
      };
    },
    async close() {
      await c.close();
      front.closeAllConnections();
      await new Promise((r) => front.close(r));
    },
  };
}

// Regressions: an agent restart while a resize waits for confirmation must keep the source guest (so revert
// still works); shelve-offload frees the server's placement allocation.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { reconcile } from "../../../src/compute/agent/reconcile.js";
import { bootActions, until, type ActionCloud } from "./util.js";

let c: ActionCloud;
before(async () => {
  c = await bootActions({ compute: { hosts: 2 } });
  const project = await c.t.projectId("demo");
  await c.req("PUT", `/v2.1/os-quota-sets/${project}`, {
    token: c.admin,
    body: { quota_set: { instances: 50, cores: 100, ram: 512000 } },
  });
});
after(() => c?.close());

const agentOf = (host: string) => c.t.cloud.computeControl.agents.find((a) => a.host === host)!;

test("a source agent restarted during VERIFY_RESIZE keeps the guest; revert then works", async () => {
  const id = await c.createServer(c.demo, { name: "restart-resize" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const source = (await c.row(id)).host as string;
  assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "84" } })).status, 202);
  await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  await reconcile(agentOf(source).deps);
  assert.ok((await agentOf(source).deps.driver.listInstances()).includes(id), "source guest kept");
  assert.equal((await c.act(c.demo, id, { revertResize: null })).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await c.row(id)).host, source);
});

test("a destination agent restarted mid-move does not clear the move's task state", async () => {
  const id = await c.createServer(c.demo, { name: "restart-task" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const host = (await c.row(id)).host as string;
  await c.t.cloud.db.kysely
    .updateTable("compute_instance")
    .set({ task_state: "resize_finish" })
    .where("uuid", "=", id)
    .execute();
  await reconcile(agentOf(host).deps);
  assert.equal((await c.row(id)).task_state, "resize_finish");
  await c.t.cloud.db.kysely
    .updateTable("compute_instance")
    .set({ task_state: null })
    .where("uuid", "=", id)
    .execute();
});

test("shelve-offload frees the placement allocation; unshelve claims again", async () => {
  const id = await c.createServer(c.demo, { name: "offload" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.notDeepEqual(await c.allocations(id), {});
  assert.equal((await c.act(c.demo, id, { shelve: null })).status, 202);
  await c.waitStatus(c.demo, id, "SHELVED_OFFLOADED");
  await until("allocation released", async () => Object.keys(await c.allocations(id)).length === 0);
  assert.equal((await c.act(c.demo, id, { unshelve: null })).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.notDeepEqual(await c.allocations(id), {});
});

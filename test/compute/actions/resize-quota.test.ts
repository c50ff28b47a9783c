// Resize quota (issue 8 item 1): the cores/RAM an upsize adds are checked and recorded under the project's quota
// lock in the transaction that starts the resize, so concurrent resizes (and creates) cannot over-commit, whether
// they reach one API process or several sharing the database (the lock itself: test/shared/db/quota-engines).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { projectUsage } from "../../../src/compute/api/quotas.js";
import { bootActions, type ActionCloud } from "./util.js";

let c: ActionCloud;
let project = "";
before(async () => {
  c = await bootActions({ compute: { hosts: 1 } });
  project = await c.t.projectId("demo");
});
after(() => c?.close());

const setQuota = async (limits: Record<string, number>, quota_set = { ...limits, force: true }) =>
  assert.equal(
    (await c.req("PUT", `/v2.1/os-quota-sets/${project}`, { token: c.admin, body: { quota_set } })).status,
    200,
  );

async function activeServers(prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await c.createServer(c.demo, { name: `${prefix}-${i}` }));
  for (const id of ids) await c.waitStatus(c.demo, id, "ACTIVE");
  return ids;
}

test("concurrent upsizes: only as many as the RAM quota holds are accepted, the rest 403", async () => {
  await setQuota({ instances: 20, cores: 40, ram: 64000 });
  const ids = await activeServers("rq", 4);
  // 4 m1.nano (128 MB) use 512 MB; m1.micro is 192 MB: room for exactly one +64 MB upsize.
  await setQuota({ ram: 4 * 128 + 64 });
  const results = await Promise.all(ids.map((id) => c.act(c.demo, id, { resize: { flavorRef: "84" } })));
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 202).length, 1, statuses.join(","));
  for (const r of results.filter((x) => x.status !== 202)) {
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), /Quota exceeded for ram/);
  }
  // While the accepted one is under way (and once it waits in VERIFY_RESIZE) no other upsize fits either.
  const moving = ids[statuses.indexOf(202)];
  const other = ids.find((id) => id !== moving)!;
  assert.equal((await c.act(c.demo, other, { resize: { flavorRef: "84" } })).status, 403);
  await c.waitStatus(c.demo, moving, "VERIFY_RESIZE");
  assert.equal((await c.act(c.demo, other, { resize: { flavorRef: "84" } })).status, 403);
  assert.equal((await c.act(c.demo, moving, { confirmResize: null })).status, 204);
  await c.waitStatus(c.demo, moving, "ACTIVE");
  for (const id of ids) await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  for (const id of ids) await c.waitGone(c.demo, id);
});

test("an upsize under way counts against a create racing it", async () => {
  await setQuota({ instances: 20, cores: 40, ram: 64000 });
  const [id] = await activeServers("rc", 1);
  // Room for the upsize (+64 MB) or a new nano (128 MB), not both (whatever the first case left).
  const used = (await projectUsage(c.t.cloud.db.kysely, project, "")).ram;
  await setQuota({ ram: used + 150 });
  const [resize, create] = await Promise.all([
    c.act(c.demo, id, { resize: { flavorRef: "84" } }),
    c.req("POST", "/v2.1/servers", {
      token: c.demo,
      body: { server: { name: "rc-new", imageRef: c.imageId, flavorRef: "42", networks: "none" } },
      mv: "2.37",
    }),
  ]);
  assert.deepEqual([resize.status, create.status].sort(), [202, 403], `${resize.status} ${create.status}`);
});

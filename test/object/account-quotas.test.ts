// Account quotas in process: only a ResellerAdmin sets or removes X-Account-Meta-Quota-Bytes; uploads past it 413.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
let reseller: string;
before(async () => {
  o = await bootObjectCloud();
  const t = o.t;
  const admin = await t.adminToken();
  // The ResellerAdmin role comes with the cloud (bootstrap: block storage's service user holds it for backups).
  const user = await t.createUser("aq-reseller", "Passw0rd-aq");
  const demoId = await t.projectId("demo");
  const g = await t.req(
    "PUT",
    `/v3/projects/${demoId}/users/${user.id}/roles/${await t.roleId("ResellerAdmin")}`,
    {
      token: admin,
    },
  );
  assert.equal(g.status, 204, g.text);
  reseller = await t.token("aq-reseller", "Passw0rd-aq", "demo");
});
after(() => o.close());

describe("account quotas", () => {
  test("the owner cannot set a quota (403); a reseller can (digits only); uploads past it are 413 until removed", async () => {
    assert.equal((await o.sw("POST", "", { headers: { "x-account-meta-quota-bytes": "10" } })).status, 403);
    assert.equal(
      (await o.sw("POST", "", { token: reseller, headers: { "x-account-meta-quota-bytes": "ten" } })).status,
      400,
    );
    assert.equal(
      (await o.sw("POST", "", { token: reseller, headers: { "x-account-meta-quota-bytes": "10" } })).status,
      204,
    );
    assert.equal((await o.sw("HEAD", "")).headers["x-account-meta-quota-bytes"], "10");
    await o.sw("PUT", "/aq");
    const put = (name: string, body: string) =>
      o.sw("PUT", `/aq/${name}`, { body, headers: { "content-length": String(body.length) } });
    assert.equal((await put("a", "12345678")).status, 201);
    const over = await put("b", "123");
    assert.equal(over.status, 413);
    assert.equal(over.text, "Upload exceeds quota.");
    assert.equal(
      (await o.sw("POST", "", { headers: { "x-remove-account-meta-quota-bytes": "x" } })).status,
      403,
    );
    assert.equal(
      (await o.sw("POST", "", { token: reseller, headers: { "x-remove-account-meta-quota-bytes": "x" } }))
        .status,
      204,
    );
    assert.equal((await put("b", "123")).status, 201);
  });
});

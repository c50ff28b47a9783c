// Service accounts (SERVICE_<project>, keystoneauth's second reseller prefix): a service keeps data for a user's
// project there, reachable only with the user's token AND a service token (X-Service-Token) with the service role.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
let service: string;
let account: string;
before(async () => {
  o = await bootObjectCloud();
  // A service user with the service role only (the bootstrap's nova user is also a ResellerAdmin, who may do anything).
  const user = await o.t.createUser("svc-user", "svc-password-1");
  const project = await o.t.projectId("service");
  const role = await o.t.roleId("service");
  const put = await o.t.req("PUT", `/v3/projects/${project}/users/${user.id}/roles/${role}`, {
    token: await o.t.adminToken(),
  });
  assert.equal(put.status, 204, put.text);
  service = await o.t.token("svc-user", "svc-password-1", "service");
  account = `SERVICE_${await o.t.projectId("demo")}`;
});
after(() => o.close());

describe("service accounts", () => {
  test("the user's token with a service token reads and writes; either alone is refused", async () => {
    const both = { "x-service-token": service };
    assert.equal((await o.sw("PUT", "/kept", { account })).status, 403, "user alone");
    assert.equal((await o.sw("PUT", "/kept", { account, token: service })).status, 403, "service alone");
    assert.equal((await o.sw("PUT", "/kept", { account, headers: both })).status, 201);
    assert.equal((await o.sw("PUT", "/kept/x", { account, headers: both, body: "data" })).status, 201);
    assert.equal((await o.sw("GET", "/kept/x", { account, headers: both })).text, "data");
    assert.equal((await o.sw("GET", "/kept/x", { account })).status, 403);
    // The service token must carry the service role: the admin's token does not.
    const admin = await o.t.adminToken();
    assert.equal(
      (await o.sw("GET", "/kept/x", { account, headers: { "x-service-token": admin } })).status,
      403,
    );
    // An invalid service token is refused outright.
    assert.equal(
      (await o.sw("GET", "/kept/x", { account, headers: { "x-service-token": "bogus" } })).status,
      401,
    );
    // The user's own AUTH_ account is unaffected by a service token.
    assert.equal((await o.sw("PUT", "/mine", { headers: both })).status, 201);
  });

  test("another project's user with a service token is refused", async () => {
    const admin = await o.t.adminToken();
    const r = await o.sw("GET", "/kept/x", {
      account,
      token: admin,
      headers: { "x-service-token": service },
    });
    assert.equal(r.status, 403);
  });
});

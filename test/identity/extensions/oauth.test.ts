// OAuth1 consumers (/v3/OS-OAUTH1/consumers).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { boot, isKeystoneError, type Env } from "../api-extra/helpers.js";

let env: Env;
before(async () => {
  env = await boot();
});
after(() => env.close());

describe("OS-OAUTH1 consumers", () => {
  test("CRUD; the secret is shown on creation only", async () => {
    const { req, admin } = env;
    const c = await req("POST", "/v3/OS-OAUTH1/consumers", admin, {
      consumer: { description: "my app", color: "blue" },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const consumer = c.body.consumer;
    assert.match(consumer.id, /^[0-9a-f]{32}$/);
    assert.equal(consumer.description, "my app");
    assert.equal(consumer.color, "blue");
    assert.match(consumer.secret, /^[0-9a-f]{32}$/);
    assert.ok(consumer.links.self.endsWith(`/identity/v3/OS-OAUTH1/consumers/${consumer.id}`));

    const shown = await req("GET", `/v3/OS-OAUTH1/consumers/${consumer.id}`, admin);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.consumer.secret, undefined);
    for (const k of ["id", "description", "links", "color"])
      assert.deepEqual(shown.body.consumer[k], consumer[k]);

    const bare = (await req("POST", "/v3/OS-OAUTH1/consumers", admin, { consumer: {} })).body.consumer;
    assert.equal(bare.description, null);

    const list = await req("GET", "/v3/OS-OAUTH1/consumers", admin);
    assert.equal(list.status, 200);
    const ids = list.body.consumers.map((x: any) => x.id);
    assert.ok(ids.includes(consumer.id) && ids.includes(bare.id));
    assert.ok(list.body.consumers.every((x: any) => x.secret === undefined));

    const upd = await req("PATCH", `/v3/OS-OAUTH1/consumers/${consumer.id}`, admin, {
      consumer: { description: "renamed" },
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.consumer.description, "renamed");
    assert.equal(upd.body.consumer.color, "blue");
    assert.equal(upd.body.consumer.secret, undefined);

    assert.equal((await req("DELETE", `/v3/OS-OAUTH1/consumers/${consumer.id}`, admin)).status, 204);
    const gone = await req("GET", `/v3/OS-OAUTH1/consumers/${consumer.id}`, admin);
    assert.equal(gone.status, 404);
    assert.ok(isKeystoneError(gone.body, 404));
    assert.equal((await req("DELETE", `/v3/OS-OAUTH1/consumers/${consumer.id}`, admin)).status, 404);
  });

  test("errors: the secret cannot be changed, empty updates are 400, non-admins are 403", async () => {
    const { req, admin, demo } = env;
    const id = (await req("POST", "/v3/OS-OAUTH1/consumers", admin, { consumer: {} })).body.consumer.id;
    const path = `/v3/OS-OAUTH1/consumers/${id}`;
    assert.equal((await req("PATCH", path, admin, { consumer: { secret: "x" } })).status, 400);
    assert.equal((await req("PATCH", path, admin, { consumer: {} })).status, 400);
    assert.equal((await req("PATCH", path, admin, { consumer: { id: "other" } })).status, 400);
    assert.equal(
      (await req("POST", "/v3/OS-OAUTH1/consumers", admin, { consumer: { description: 5 } })).status,
      400,
    );
    assert.equal((await req("POST", "/v3/OS-OAUTH1/consumers", demo, { consumer: {} })).status, 403);
    assert.equal((await req("GET", "/v3/OS-OAUTH1/consumers", demo)).status, 403);
    assert.equal((await req("DELETE", path, demo)).status, 403);
    assert.equal((await req("GET", "/v3/OS-OAUTH1/consumers")).status, 401);
  });
});

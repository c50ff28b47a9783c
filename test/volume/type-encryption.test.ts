// Volume type encryption (/types/{id}/encryption, Cinder's volume_type_encryption): admin-only CRUD as tempest's
// test_volume_type_encryption_create_get_update_delete drives it, Cinder's 400s for bad bodies and for a type in use,
// and the refusal of volumes of an encrypted type (no key manager: never an unencrypted volume in their place).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bootVolume, type VolumeCloud } from "./helpers.js";

let c: VolumeCloud;
before(async () => {
  c = await bootVolume();
});
after(() => c?.close());

/** A new volume type's id. */
async function newType(name: string): Promise<string> {
  const r = await c.req("POST", "/types", { body: { volume_type: { name } } });
  assert.equal(r.status, 200, r.text);
  return r.body.volume_type.id as string;
}

const LUKS = { provider: "luks", key_size: 256, cipher: "aes-xts-plain64", control_location: "front-end" };

describe("block storage: volume type encryption", () => {
  it("creates, shows, updates, shows one spec of and deletes a type's encryption", async () => {
    const type = await newType("enc-crud");
    const url = `/types/${type}/encryption`;
    assert.deepEqual((await c.req("GET", url)).body, {});
    const made = await c.req("POST", url, { body: { encryption: { ...LUKS, key_size: "256" } } });
    assert.equal(made.status, 200, made.text);
    const enc = made.body.encryption;
    assert.deepEqual(Object.keys(enc).sort(), [
      "cipher",
      "control_location",
      "encryption_id",
      "key_size",
      "provider",
      "volume_type_id",
    ]);
    assert.equal(enc.volume_type_id, type);
    assert.equal(enc.key_size, 256, "a digit string is taken as an integer");
    assert.match(enc.encryption_id, /^[0-9a-f-]{36}$/);
    const shown = await c.req("GET", url);
    assert.equal(shown.status, 200);
    assert.deepEqual(
      { ...shown.body, created_at: undefined },
      {
        ...LUKS,
        volume_type_id: type,
        encryption_id: enc.encryption_id,
        created_at: undefined,
        updated_at: null,
        deleted: false,
        deleted_at: null,
      },
    );
    assert.match(shown.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    // A second create is Cinder's VolumeTypeEncryptionExists (400).
    const again = await c.req("POST", url, { body: { encryption: LUKS } });
    assert.equal(again.status, 400);
    assert.match(again.body.badRequest.message, /already exists/);

    const update = { key_size: 128, provider: "SomeProvider", control_location: "back-end" };
    const put = await c.req("PUT", `${url}/${enc.encryption_id}`, { body: { encryption: update } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body, { encryption: update });
    const after = (await c.req("GET", url)).body;
    assert.deepEqual(
      [after.key_size, after.provider, after.control_location, after.cipher],
      [128, "SomeProvider", "back-end", "aes-xts-plain64"],
    );
    assert.ok(after.updated_at);
    const item = await c.req("GET", `${url}/cipher`);
    assert.equal(item.status, 200);
    assert.deepEqual(item.body, { cipher: "aes-xts-plain64" });
    const unknown = await c.req("GET", `${url}/nope`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.itemNotFound.message, /encryption for type .* does not exist/);

    assert.equal((await c.req("DELETE", `${url}/provider`)).status, 202);
    assert.deepEqual((await c.req("GET", url)).body, {});
    assert.equal((await c.req("DELETE", `${url}/provider`)).status, 404);
    assert.equal((await c.req("PUT", `${url}/provider`, { body: { encryption: update } })).status, 404);
    assert.equal((await c.req("GET", `${url}/cipher`)).status, 404);
  });

  it("is admin only, and 404 for an unknown type", async () => {
    const type = await newType("enc-admin");
    const url = `/types/${type}/encryption`;
    assert.equal((await c.req("GET", url, { token: c.demo })).status, 403);
    assert.equal((await c.req("POST", url, { token: c.demo, body: { encryption: LUKS } })).status, 403);
    assert.equal((await c.req("POST", url, { body: { encryption: LUKS } })).status, 200);
    assert.equal((await c.req("PUT", `${url}/x`, { token: c.demo, body: { encryption: {} } })).status, 403);
    assert.equal((await c.req("DELETE", `${url}/x`, { token: c.demo })).status, 403);
    const none = "00000000-0000-0000-0000-000000000000";
    const missing = await c.req("POST", `/types/${none}/encryption`, { body: { encryption: LUKS } });
    assert.equal(missing.status, 404);
    assert.match(missing.body.itemNotFound.message, /Volume type .* could not be found/);
    assert.equal((await c.req("GET", `/types/${none}/encryption`)).status, 404);
  });

  it("refuses bad bodies with Cinder's 400s and stores nothing", async () => {
    const type = await newType("enc-bad");
    const url = `/types/${type}/encryption`;
    const bad: unknown[] = [
      undefined,
      {},
      { encryption: "luks" },
      { encryption: { control_location: "front-end" } },
      { encryption: { provider: "luks" } },
      { encryption: { ...LUKS, control_location: "middle" } },
      { encryption: { ...LUKS, key_size: -1 } },
      { encryption: { ...LUKS, key_size: "abc" } },
      { encryption: { ...LUKS, key_size: 2 ** 31 } },
      { encryption: { ...LUKS, key_size: 1.5 } },
      { encryption: { ...LUKS, cipher: 7 } },
      { encryption: { ...LUKS, cipher: "x".repeat(256) } },
      { encryption: { ...LUKS, provider: "p".repeat(256) } },
      { encryption: { ...LUKS, volume_type_id: type } },
      { encryption: LUKS, extra: 1 },
    ];
    for (const body of bad) {
      const r = await c.req("POST", url, { body });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.ok(r.body.badRequest?.message, r.text);
    }
    assert.deepEqual((await c.req("GET", url)).body, {});
    assert.equal((await c.req("POST", url, { body: { encryption: { ...LUKS, cipher: null } } })).status, 200);
    for (const body of [{ encryption: { control_location: "inside" } }, { encryption: { nope: 1 } }, {}]) {
      const r = await c.req("PUT", `${url}/x`, { body });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    }
    assert.equal((await c.req("GET", url)).body.cipher, null);
  });

  it("refuses changes while volumes of the type exist", async () => {
    const type = await newType("enc-used");
    const url = `/types/${type}/encryption`;
    const vol = await c.create(c.admin, { volume_type: "enc-used" });
    await c.waitStatus(c.admin, vol, "available");
    const r = await c.req("POST", url, { body: { encryption: LUKS } });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, "Cannot create encryption specs. Volume type in use.");
    assert.deepEqual((await c.req("GET", url)).body, {});
    assert.equal((await c.req("PUT", `${url}/x`, { body: { encryption: {} } })).status, 400);
    assert.equal((await c.req("DELETE", `${url}/x`)).status, 400);
    assert.equal((await c.req("DELETE", `/volumes/${vol}`)).status, 202);
    await c.waitGone(c.admin, vol);
    assert.equal((await c.req("POST", url, { body: { encryption: LUKS } })).status, 200);
  });

  it("refuses volumes of an encrypted type (create, default type, retype): no key manager", async () => {
    const type = await newType("enc-vol");
    assert.equal(
      (await c.req("POST", `/types/${type}/encryption`, { body: { encryption: LUKS } })).status,
      200,
    );
    const before = (await c.req("GET", "/volumes", { token: c.demo })).body.volumes.length;
    for (const volume_type of ["enc-vol", type]) {
      const r = await c.req("POST", "/volumes", {
        token: c.demo,
        body: { volume: { size: 1, volume_type } },
      });
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.badRequest.message, /no key manager is configured/);
    }
    assert.equal((await c.req("GET", "/volumes", { token: c.demo })).body.volumes.length, before);

    // A project whose default type is encrypted gets the same answer for a volume without a type.
    const url = `/volume/v3/default-types/${c.demoProject}`;
    const set = await c.req("PUT", url, { body: { default_type: { volume_type: "enc-vol" } }, mv: "3.62" });
    assert.equal(set.status, 200, set.text);
    const dflt = await c.req("POST", "/volumes", { token: c.demo, body: { volume: { size: 1 } } });
    assert.equal(dflt.status, 400, dflt.text);
    assert.match(dflt.body.badRequest.message, /no key manager/);
    assert.equal((await c.req("DELETE", url, { mv: "3.62" })).status, 204);

    const plain = await c.create(c.demo);
    await c.waitStatus(c.demo, plain, "available");
    const retype = await c.req("POST", `/volumes/${plain}/action`, {
      token: c.demo,
      body: { "os-retype": { new_type: "enc-vol" } },
    });
    assert.equal(retype.status, 400, retype.text);
    assert.match(retype.body.badRequest.message, /no key manager/);
    assert.equal(
      (await c.req("GET", `/volumes/${plain}`, { token: c.demo })).body.volume.volume_type,
      "__DEFAULT__",
    );

    // Deleting the type removes its encryption with it.
    assert.equal((await c.req("DELETE", `/types/${type}`)).status, 202);
    const rows = await c.t.cloud.volume.core.db
      .selectFrom("volume_type_encryption")
      .select("volume_type_id")
      .where("volume_type_id", "=", type)
      .execute();
    assert.deepEqual(rows, []);
  });
});

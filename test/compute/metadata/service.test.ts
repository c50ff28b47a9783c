// The metadata service over HTTP: only a request whose X-Instance-ID is signed with the shared secret (and whose
// X-Tenant-ID is the instance's project) gets that instance's data; the OpenStack and EC2 trees; the password
// POSTed once (409 after, 400 when too large), as Nova's metadata handler answers.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pino from "pino";
import { insertInstance, type Instance } from "../../../src/compute/instances/store.js";
import { startMetadataService, type MetadataService } from "../../../src/compute/metadata/service.js";
import { identityHeaders, signInstanceId } from "../../../src/compute/metadata/signing.js";
import { computeMigrations } from "../../../src/compute/migrations/index.js";
import { migrate, openDatabase, type Database } from "../../../src/shared/db/index.js";

const SECRET = "0123456789abcdef0123456789abcdef";
let dir = "";
let db: Database;
let svc: MetadataService;
const a = { uuid: randomUUID(), project: "project-a" };
const b = { uuid: randomUUID(), project: "project-b" };

function row(uuid: string, project: string, name: string): Omit<Instance, "id"> {
  const now = new Date().toISOString();
  return {
    uuid,
    display_name: name,
    hostname: name,
    description: null,
    project_id: project,
    user_id: "user-1",
    image_ref: "155d900f-4e14-4e4c-a73d-069cbf4541e6",
    flavor: {
      flavorid: "42",
      name: "m1.nano",
      memory_mb: 128,
      vcpus: 1,
      root_gb: 1,
      ephemeral_gb: 0,
      swap: 0,
      rxtx_factor: 1,
      is_public: true,
      description: null,
      extra_specs: {},
    },
    vcpus: 1,
    memory_mb: 128,
    key_name: "k1",
    key_data: `ssh-ed25519 AAAA ${name}`,
    user_data: Buffer.from(`#!/bin/sh\necho ${name}\n`).toString("base64"),
    config_drive: "",
    host: "compute1",
    node: "compute1",
    availability_zone: "nova",
    vm_state: "active",
    task_state: null,
    power_state: 1,
    locked: false,
    locked_by: null,
    locked_reason: null,
    reservation_id: "r-00000001",
    launch_index: 0,
    access_ip_v4: null,
    access_ip_v6: null,
    progress: 0,
    security_groups: [{ name: "default" }],
    addresses: {},
    request_spec: {
      image: { id: "img", min_ram: 0, min_disk: 0, properties: {} },
      hints: {},
      networks: "none",
    },
    system_metadata: { image_name: "cirros" },
    launched_at: now,
    terminated_at: null,
    deleted: 0,
    deleted_at: null,
    created_at: now,
    updated_at: now,
  };
}

async function get(path: string, headers: Record<string, string> = {}, init: RequestInit = {}) {
  const r = await fetch(`${svc.url}${path}`, { ...init, headers });
  return { status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() };
}
const as = (who: { uuid: string; project: string }) =>
  identityHeaders(SECRET, { instanceId: who.uuid, projectId: who.project, address: "169.254.169.15" });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "stratus-md-"));
  db = await openDatabase(`sqlite://${join(dir, "t.db")}`);
  await migrate(db, "compute", computeMigrations);
  await insertInstance(db.kysely, row(a.uuid, a.project, "vm-a"));
  await insertInstance(db.kysely, row(b.uuid, b.project, "vm-b"));
  await db.kysely
    .insertInto("compute_instance_metadata")
    .values({ instance_uuid: a.uuid, meta_key: "role", value: "web" })
    .execute();
  svc = await startMetadataService({ db: db.kysely, log: pino({ level: "silent" }), secret: SECRET });
});

after(async () => {
  await svc?.close();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a signed request gets its own instance's OpenStack metadata", async () => {
  const r = await get("/openstack/latest/meta_data.json", as(a));
  assert.equal(r.status, 200);
  assert.match(r.type, /^application\/json/);
  const md = JSON.parse(r.text);
  assert.equal(md.uuid, a.uuid);
  assert.equal(md.name, "vm-a");
  assert.equal(md.hostname, "vm-a.novalocal");
  assert.equal(md.project_id, a.project);
  assert.deepEqual(md.meta, { role: "web" });
  assert.deepEqual(md.public_keys, { k1: "ssh-ed25519 AAAA vm-a" });
  assert.equal((await get("/openstack/latest/user_data", as(a))).text, "#!/bin/sh\necho vm-a\n");
  assert.equal(JSON.parse((await get("/openstack/latest/meta_data.json", as(b))).text).uuid, b.uuid);
  const listing = await get("/openstack/latest", as(a));
  assert.equal(listing.text.split("\n").includes("vendor_data2.json"), true);
  assert.equal((await get("/openstack/latest/nothing", as(a))).status, 404);
});

test("the EC2 tree: versions at /, instance-id i-xxxxxxxx, keys, user-data", async () => {
  const root = await get("/");
  assert.equal(root.status, 200, "the version list needs no identity (as Nova)");
  assert.match(root.text, /^1\.0\n.*\nlatest$/s);
  const id = await get("/latest/meta-data/instance-id", as(a));
  assert.equal(id.status, 200);
  assert.match(id.text, /^i-[0-9a-f]{8}$/);
  assert.notEqual(id.text, (await get("/latest/meta-data/instance-id", as(b))).text);
  assert.equal((await get("/latest/meta-data/public-keys/", as(a))).text, "0=k1");
  assert.equal(
    (await get("/latest/meta-data/public-keys/0/openssh-key", as(a))).text,
    "ssh-ed25519 AAAA vm-a",
  );
  assert.equal((await get("/2009-04-04/meta-data/placement/availability-zone", as(a))).text, "nova");
  assert.equal((await get("/latest/meta-data/local-ipv4", as(a))).text, "169.254.169.15");
  assert.equal((await get("/latest/meta-data/local-hostname", as(a))).text, "vm-a.novalocal");
  assert.equal((await get("/latest/user-data", as(a))).text, "#!/bin/sh\necho vm-a\n");
  assert.match((await get("/latest/meta-data/", as(a))).text, /\ninstance-id\n/);
  assert.equal((await get("//latest//meta-data/./instance-id", as(a))).text, id.text, "paths normalised");
  assert.equal((await get("/latest/meta%2Ddata/instance-id", as(a))).text, id.text, "percent-decoded");
  assert.equal((await get("/latest/meta-data/%E0%A4%A", as(a))).status, 400);
});

test("no identity, a forged or another instance's signature, or the wrong project: refused", async () => {
  const miss = await get("/openstack/latest/meta_data.json");
  assert.equal(miss.status, 400);
  assert.match(miss.text, /X-Instance-ID header is missing/);
  const unsigned = await get("/openstack/latest/meta_data.json", {
    "x-instance-id": a.uuid,
    "x-tenant-id": a.project,
  });
  assert.equal(unsigned.status, 400);
  assert.match(unsigned.text, /X-Instance-ID-Signature header is missing/);
  const forged = await get("/openstack/latest/meta_data.json", {
    "x-instance-id": a.uuid,
    "x-tenant-id": a.project,
    "x-instance-id-signature": signInstanceId("not-the-secret", a.uuid),
  });
  assert.equal(forged.status, 403);
  assert.match(forged.text, /Invalid proxy request signature/);
  // b's valid signature does not open a's data.
  const swapped = await get("/openstack/latest/meta_data.json", { ...as(b), "x-instance-id": a.uuid });
  assert.equal(swapped.status, 403);
  const wrongTenant = await get("/openstack/latest/meta_data.json", { ...as(a), "x-tenant-id": b.project });
  assert.equal(wrongTenant.status, 404, "a tenant mismatch is 404, as Nova");
  const unknown = randomUUID();
  const gone = await get(
    "/openstack/latest/meta_data.json",
    identityHeaders(SECRET, { instanceId: unknown, projectId: "p" }),
  );
  assert.equal(gone.status, 404);
  const ec2 = await get("/latest/meta-data/instance-id", {
    "x-instance-id": a.uuid,
    "x-tenant-id": a.project,
    "x-instance-id-signature": "00",
  });
  assert.equal(ec2.status, 403);
});

test("password: empty, POSTed once, then 409; too large is 400; never another instance's", async () => {
  assert.equal((await get("/openstack/latest/password", as(b))).text, "");
  const tooBig = await get("/openstack/latest/password", as(b), { method: "POST", body: "x".repeat(1021) });
  assert.equal(tooBig.status, 400);
  assert.equal(
    (await get("/openstack/2012-08-10/password", as(b))).status,
    404,
    "no password before 2013-04-04",
  );
  const pw = "p".repeat(300);
  const first = await get("/openstack/latest/password", as(b), { method: "POST", body: pw });
  assert.equal(first.status, 200);
  assert.equal((await get("/openstack/latest/password", as(b))).text, pw);
  const second = await get("/openstack/2013-04-04/password", as(b), { method: "POST", body: "other" });
  assert.equal(second.status, 409);
  assert.equal((await get("/openstack/latest/password", as(b))).text, pw, "the first password stays");
  assert.equal((await get("/openstack/latest/password", as(a))).text, "", "a's password is its own");
  const put = await get("/openstack/latest/password", as(a), { method: "PUT", body: "x" });
  assert.equal(put.status, 400);
  // Stored as Nova's password_0..3 items, so os-server-password reads it.
  const sm = (await db.kysely
    .selectFrom("compute_instance")
    .select("system_metadata")
    .where("uuid", "=", b.uuid)
    .executeTakeFirstOrThrow()) as { system_metadata: string };
  const meta = JSON.parse(sm.system_metadata);
  assert.equal(meta.password_0, "p".repeat(255));
  assert.equal(meta.password_1, "p".repeat(45));
  assert.equal(meta.image_name, "cirros", "other system metadata kept");
});

test("racing password POSTs: exactly one wins", async () => {
  const c = { uuid: randomUUID(), project: "project-c" };
  await insertInstance(db.kysely, row(c.uuid, c.project, "vm-c"));
  const results = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      get("/openstack/latest/password", as(c), { method: "POST", body: `pw${i}` }),
    ),
  );
  assert.equal(results.filter((r) => r.status === 200).length, 1);
  assert.equal(results.filter((r) => r.status === 409).length, 4);
});

// End to end for the Image service: `bin/stratus up` as a child process, driven by the real OpenStack CLI (Debian's
// python3-openstackclient, /usr/bin/openstack) and by openstacksdk (python3-openstacksdk, under /usr/bin/python3)
// through the clouds.yaml that Stratus writes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  exec,
  killStratus,
  OPENSTACK,
  openstack,
  pyEnv,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";

const PYTHON = "/usr/bin/python3";
const QEMU_IMG = "/usr/bin/qemu-img";
const uniq = () => randomBytes(4).toString("hex");
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const sha512 = (b: Buffer) => createHash("sha512").update(b).digest("hex");

/**
 * A minimal valid qcow2 v3 image, laid out as `qemu-img create -f qcow2 F 64M` does: the header in cluster 0, the
 * refcount table in cluster 1, one refcount block in cluster 2 (clusters 0-3 in use), the one-entry L1 table in
 * cluster 3, no data clusters. `qemu-img check` finds no errors in it.
 */
function handmadeQcow2(virtualSize = 64 * 1024 * 1024): Buffer {
  const clusterBits = 16;
  const cluster = 1 << clusterBits;
  const l1Entries = Math.ceil(virtualSize / (cluster * (cluster / 8)));
  const img = Buffer.alloc(3 * cluster + l1Entries * 8);
  img.write("QFI\xfb", 0, "latin1");
  img.writeUInt32BE(3, 4); // version
  img.writeBigUInt64BE(0n, 8); // backing_file_offset: none
  img.writeUInt32BE(0, 16); // backing_file_size
  img.writeUInt32BE(clusterBits, 20);
  img.writeBigUInt64BE(BigInt(virtualSize), 24);
  img.writeUInt32BE(0, 32); // crypt_method: none
  img.writeUInt32BE(l1Entries, 36); // l1_size
  img.writeBigUInt64BE(BigInt(3 * cluster), 40); // l1_table_offset
  img.writeBigUInt64BE(BigInt(cluster), 48); // refcount_table_offset
  img.writeUInt32BE(1, 56); // refcount_table_clusters
  img.writeUInt32BE(0, 60); // nb_snapshots
  img.writeBigUInt64BE(0n, 64); // snapshots_offset
  img.writeBigUInt64BE(0n, 72); // incompatible_features
  img.writeBigUInt64BE(0n, 80); // compatible_features
  img.writeBigUInt64BE(0n, 88); // autoclear_features
  img.writeUInt32BE(4, 96); // refcount_order: 16-bit refcounts
  img.writeUInt32BE(104, 100); // header_length; the header extension area that follows is all zeros (end marker)
  img.writeBigUInt64BE(BigInt(2 * cluster), cluster); // refcount table[0] → the refcount block
  for (let i = 0; i < 4; i++) img.writeUInt16BE(1, 2 * cluster + 2 * i); // clusters 0..3 are used once
  return img;
}

/** openstacksdk driven by a small script: `python3 SCRIPT ACTION ARGS...` prints one JSON line. */
const SDK_SCRIPT = String.raw`
import hashlib, json, os, sys, time
import openstack
from openstack import exceptions

def main():
    action = sys.argv[1]
    conn = openstack.connect(cloud=os.environ["OS_CLOUD"])
    if action == "create":
        name, path, disk, container, use_import = sys.argv[2:7]
        img = conn.image.create_image(
            name, filename=path, disk_format=disk, container_format=container,
            validate_checksum=True, use_import=use_import == "1", allow_duplicates=True)
        deadline = time.time() + 60
        img = conn.image.get_image(img.id)
        while img.status != "active" and time.time() < deadline:
            if img.status in ("killed", "deleted"):
                break
            time.sleep(0.5)
            img = conn.image.get_image(img.id)
        print(json.dumps({"id": img.id, "status": img.status, "checksum": img.checksum,
                          "hash_algo": img.hash_algo, "hash_value": img.hash_value, "size": img.size,
                          "failed": (img.properties or {}).get("os_glance_failed_import")}))
    elif action == "download":
        image_id, out = sys.argv[2:4]
        try:
            conn.image.download_image(image_id, output=out)
        except exceptions.SDKException as e:
            print(json.dumps({"ok": False, "error": str(e)}))
            return
        # The sdk checks md5 (Content-MD5 / checksum); check os_hash_value here too.
        img = conn.image.get_image(image_id)
        h = hashlib.new(img.hash_algo)
        with open(out, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        print(json.dumps({"ok": True, "hash_ok": h.hexdigest() == img.hash_value}))
    elif action == "delete":
        conn.image.delete_image(sys.argv[2], ignore_missing=False)
        print(json.dumps({"ok": True}))

main()
`;

describe("openstack image commands and openstacksdk against `stratus up`", { concurrency: false }, () => {
  let s: StratusProcess;
  let work: string;
  let qcow2Path: string;
  let rawPath: string;
  let qcow2Bytes: Buffer;
  let rawBytes: Buffer;
  let qemuMade = false;
  /** Images made by the tests, by role. */
  const ids: Record<string, string> = {};
  const tag = uniq();
  const qcow2Name = `e2e-qcow2-${tag}`;
  const rawName = `e2e-raw-${tag}`;

  const osResult = (args: string[], cloud = "stratus-admin") => openstack(s, args, cloud);
  /** Run `openstack ARGS` as a cloud of clouds.yaml; fails the test unless it exits 0. */
  async function os(args: string[], cloud = "stratus-admin"): Promise<string> {
    const r = await osResult(args, cloud);
    assert.equal(
      r.code,
      0,
      `openstack ${args.join(" ")} (OS_CLOUD=${cloud}) exited ${r.code}:\n${r.stderr}${r.stdout}`,
    );
    return r.stdout;
  }
  const osJson = async <T = any>(args: string[], cloud?: string): Promise<T> =>
    JSON.parse(await os([...args, "-f", "json"], cloud)) as T;
  /** `openstack ARGS` must fail; returns its stderr. */
  async function osFails(args: string[], cloud = "stratus-admin"): Promise<string> {
    const r = await osResult(args, cloud);
    assert.notEqual(
      r.code,
      0,
      `openstack ${args.join(" ")} (OS_CLOUD=${cloud}) should have failed:\n${r.stdout}`,
    );
    return r.stderr;
  }
  const listNames = async (args: string[], cloud?: string) =>
    (await osJson<Array<{ Name: string }>>(["image", "list", ...args], cloud)).map((r) => r.Name);
  /** openstacksdk: run SDK_SCRIPT with ACTION ARGS as a cloud; returns its JSON line. */
  async function sdk<T = any>(args: string[], cloud = "stratus-admin"): Promise<T> {
    const r = await exec(
      PYTHON,
      [join(work, "sdk.py"), ...args],
      pyEnv({ OS_CLIENT_CONFIG_FILE: s.cloudsYaml, OS_CLOUD: cloud }),
    );
    assert.equal(r.code, 0, `sdk ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.stdout}`);
    const lines = r.stdout.trim().split("\n");
    return JSON.parse(lines[lines.length - 1]) as T;
  }
  /** The file an image's bytes are stored in (the file store keeps DATA_DIR/images/<id>). */
  const storedFile = (id: string) => join(s.dir, "images", id);

  before(async () => {
    assert.ok(
      existsSync(OPENSTACK),
      `${OPENSTACK} is missing: apt-get install python3-openstackclient (npm test does this)`,
    );
    s = await startStratus("stratus-e2e-image-");
    assert.ok(s.clouds["stratus-demo"], "clouds.yaml has no stratus-demo cloud");
    work = await mkdtemp(join(tmpdir(), "stratus-e2e-image-files-"));
    await writeFile(join(work, "sdk.py"), SDK_SCRIPT);
    qcow2Path = join(work, "disk.qcow2");
    if (existsSync(QEMU_IMG)) {
      const r = spawnSync(QEMU_IMG, ["create", "-q", "-f", "qcow2", qcow2Path, "64M"], { encoding: "utf8" });
      assert.equal(r.status, 0, `qemu-img create failed: ${r.stderr}`);
      qemuMade = true;
    } else {
      await writeFile(qcow2Path, handmadeQcow2());
    }
    qcow2Bytes = await readFile(qcow2Path);
    // A raw disk of random bytes, not a multiple of anything in particular.
    rawPath = join(work, "disk.raw");
    rawBytes = randomBytes(3 * 1024 * 1024 + 4321);
    await writeFile(rawPath, rawBytes);
  });

  after(async () => {
    await killStratus(s);
    if (work) await rm(work, { recursive: true, force: true });
  });

  test(
    "the handmade qcow2 (used without qemu-img) is one qemu-img accepts",
    { skip: !existsSync(QEMU_IMG) },
    async () => {
      const f = join(work, "handmade.qcow2");
      await writeFile(f, handmadeQcow2());
      const r = spawnSync(QEMU_IMG, ["check", "--output=json", f], { encoding: "utf8" });
      assert.equal(r.status, 0, `qemu-img check: ${r.stdout}${r.stderr}`);
      const info = JSON.parse(spawnSync(QEMU_IMG, ["info", "--output=json", f], { encoding: "utf8" }).stdout);
      assert.equal(info.format, "qcow2");
      assert.equal(info["virtual-size"], 64 * 1024 * 1024);
      if (qemuMade) assert.equal((await stat(f)).size, qcow2Bytes.length, "same layout as qemu-img's");
    },
  );

  test("image create --file (qcow2, with a property) becomes active with its checksums", async () => {
    const created = await osJson([
      "image",
      "create",
      qcow2Name,
      "--file",
      qcow2Path,
      "--disk-format",
      "qcow2",
      "--container-format",
      "bare",
      "--property",
      "k=v",
      "--property",
      "os_distro=cirros",
    ]);
    assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    ids.qcow2 = created.id;
    const img = await osJson(["image", "show", ids.qcow2]);
    assert.equal(img.name, qcow2Name);
    assert.equal(img.status, "active");
    assert.equal(img.disk_format, "qcow2");
    assert.equal(img.container_format, "bare");
    assert.equal(img.visibility, "shared", "Glance v2's default visibility");
    assert.equal(img.size, qcow2Bytes.length);
    assert.equal(img.virtual_size, 64 * 1024 * 1024, "virtual size read from the qcow2 header");
    assert.equal(img.checksum, md5(qcow2Bytes));
    assert.equal(img.properties.os_hash_algo, "sha512");
    assert.equal(img.properties.os_hash_value, sha512(qcow2Bytes));
    assert.equal(img.properties.k, "v");
    assert.equal(img.properties.os_distro, "cirros");
    assert.equal(img.protected, false);
    assert.match(img.owner, /^[0-9a-f]{32}$/);
  });

  test("image create --file (raw, --private)", async () => {
    const created = await osJson([
      "image",
      "create",
      rawName,
      "--file",
      rawPath,
      "--disk-format",
      "raw",
      "--container-format",
      "bare",
      "--private",
      "--min-disk",
      "1",
    ]);
    ids.raw = created.id;
    const img = await osJson(["image", "show", rawName]);
    assert.equal(img.id, ids.raw);
    assert.equal(img.status, "active");
    assert.equal(img.visibility, "private");
    assert.equal(img.size, rawBytes.length);
    assert.equal(img.virtual_size, rawBytes.length, "a raw image's virtual size is its size");
    assert.equal(img.min_disk, 1);
    assert.equal(img.checksum, md5(rawBytes));
  });

  test("a qcow2 declared as raw is refused with a clear error, and leaves no active image", async () => {
    const name = `e2e-liar-${tag}`;
    const stderr = await osFails([
      "image",
      "create",
      name,
      "--file",
      qcow2Path,
      "--disk-format",
      "raw",
      "--container-format",
      "bare",
    ]);
    assert.match(stderr, /400/);
    assert.match(stderr, /disk_format 'raw'.*declared raw but the data is qcow2/);
    const left = await osJson<Array<{ Name: string; Status: string }>>(["image", "list", "--name", name]);
    assert.ok(
      left.every((r) => r.Status !== "active"),
      `the refused image must not be active: ${JSON.stringify(left)}`,
    );
  });

  test("image list with --name, --property, --status, --private, --shared, --long", async () => {
    assert.deepEqual(await listNames(["--name", qcow2Name]), [qcow2Name]);
    assert.deepEqual(await listNames(["--name", `no-such-${tag}`]), []);
    assert.deepEqual(await listNames(["--property", "k=v"]), [qcow2Name]);
    assert.deepEqual(await listNames(["--property", "k=other"]), []);
    const active = await listNames(["--status", "active"]);
    assert.ok(active.includes(qcow2Name) && active.includes(rawName), `active: ${active}`);
    assert.deepEqual(await listNames(["--status", "queued", "--name", qcow2Name]), []);
    const priv = await listNames(["--private"]);
    assert.ok(priv.includes(rawName) && !priv.includes(qcow2Name), `--private: ${priv}`);
    const shared = await listNames(["--shared"]);
    assert.ok(shared.includes(qcow2Name) && !shared.includes(rawName), `--shared: ${shared}`);
    type Long = { Name: string; "Disk Format": string; Size: number; Checksum: string; Visibility: string };
    const long = await osJson<Long[]>(["image", "list", "--long", "--name", rawName]);
    assert.equal(long.length, 1);
    assert.equal(long[0]["Disk Format"], "raw");
    assert.equal(long[0].Size, rawBytes.length);
    assert.equal(long[0].Checksum, md5(rawBytes));
    assert.equal(long[0].Visibility, "private");
  });

  test("image set --property/--name/--protected and image unset --property", async () => {
    const renamed = `${qcow2Name}-renamed`;
    await os(["image", "set", ids.qcow2, "--property", "a=b", "--name", renamed, "--protected"]);
    await os(["image", "unset", renamed, "--property", "k"]);
    const img = await osJson(["image", "show", ids.qcow2]);
    assert.equal(img.name, renamed);
    assert.equal(img.protected, true);
    assert.equal(img.properties.a, "b");
    assert.ok(!("k" in img.properties), `k is still set: ${JSON.stringify(img.properties)}`);
    assert.equal(img.properties.os_distro, "cirros", "other properties stay");
    assert.equal(img.checksum, md5(qcow2Bytes), "metadata changes leave the data alone");
    assert.deepEqual(await listNames(["--property", "a=b"]), [renamed]);
    await os(["image", "set", ids.qcow2, "--name", qcow2Name]);
  });

  test("image save --file gives back the same bytes (md5 too)", async () => {
    for (const [id, bytes] of [
      [ids.qcow2, qcow2Bytes],
      [ids.raw, rawBytes],
    ] as const) {
      const out = join(work, `saved-${id}`);
      await os(["image", "save", "--file", out, id]);
      const got = await readFile(out);
      assert.equal(got.length, bytes.length);
      assert.ok(got.equals(bytes), `image ${id}: the saved bytes differ from the uploaded ones`);
      assert.equal(md5(got), (await osJson(["image", "show", id])).checksum);
    }
  });

  test("image add project, the demo project accepts, sees and downloads it; image remove project", async () => {
    const member = await osJson(["image", "add", "project", ids.qcow2, "demo"]);
    assert.equal(member.image_id, ids.qcow2);
    assert.equal(member.status, "pending");
    const demoProject = member.member_id as string;
    assert.match(demoProject, /^[0-9a-f]{32}$/);
    // Pending: not in the demo user's default list yet (Glance lists accepted shared images only).
    assert.ok(!(await listNames([], "stratus-demo")).includes(qcow2Name));
    // Someone else's private image stays invisible to the demo user.
    await osFails(["image", "show", ids.raw], "stratus-demo");

    await os(["image", "set", "--accept", ids.qcow2], "stratus-demo");
    type Member = { "Image ID": string; "Member ID": string; Status: string };
    const members = await osJson<Member[]>(["image", "member", "list", ids.qcow2]);
    assert.deepEqual(
      members.map((m) => [m["Member ID"], m.Status]),
      [[demoProject, "accepted"]],
    );
    assert.ok((await listNames([], "stratus-demo")).includes(qcow2Name), "accepted: in the demo user's list");
    assert.ok((await listNames(["--shared"], "stratus-demo")).includes(qcow2Name));
    const out = join(work, "demo-download.qcow2");
    await os(["image", "save", "--file", out, ids.qcow2], "stratus-demo");
    assert.ok((await readFile(out)).equals(qcow2Bytes), "the demo user downloads the same bytes");
    // A member may not change the image.
    const denied = await osFails(["image", "set", "--property", "x=y", ids.qcow2], "stratus-demo");
    assert.match(denied, /403|Forbidden/i);

    await os(["image", "remove", "project", ids.qcow2, "demo"]);
    assert.deepEqual(await osJson(["image", "member", "list", ids.qcow2]), []);
    assert.ok(!(await listNames([], "stratus-demo")).includes(qcow2Name));
    await osFails(["image", "show", ids.qcow2], "stratus-demo");
  });

  test("image delete: refused while protected, then deleted", async () => {
    const refused = await osFails(["image", "delete", ids.qcow2]);
    assert.match(refused, /403.*protected/s);
    assert.equal((await osJson(["image", "show", ids.qcow2])).status, "active");
    await os(["image", "set", "--unprotected", ids.qcow2]);
    await os(["image", "delete", ids.qcow2, ids.raw]);
    for (const id of [ids.qcow2, ids.raw]) {
      const stderr = await osFails(["image", "show", id]);
      assert.match(stderr, /No Image found|404/);
      assert.ok(!existsSync(storedFile(id)), `the data of ${id} is still in the store`);
    }
    const left = await listNames([]);
    assert.ok(!left.includes(qcow2Name) && !left.includes(rawName), `still listed: ${left}`);
  });

  test("openstacksdk: create_image (upload), download_image with checksum verification, tampered data fails", async () => {
    const name = `e2e-sdk-${tag}`;
    const img = await sdk(["create", name, rawPath, "raw", "bare", "0"]);
    assert.equal(img.status, "active");
    assert.equal(img.size, rawBytes.length);
    assert.equal(img.checksum, md5(rawBytes));
    assert.equal(img.hash_algo, "sha512");
    assert.equal(img.hash_value, sha512(rawBytes));

    const out = join(work, "sdk-download.raw");
    const ok = await sdk(["download", img.id, out]);
    assert.deepEqual(ok, { ok: true, hash_ok: true });
    assert.ok((await readFile(out)).equals(rawBytes));

    // Corrupt one byte of the stored data behind the service's back (same size): the sdk's md5 check catches it.
    const fh = await open(storedFile(img.id), "r+");
    try {
      const b = Buffer.alloc(1);
      await fh.read(b, 0, 1, 1000);
      b[0] ^= 0xff;
      await fh.write(b, 0, 1, 1000);
    } finally {
      await fh.close();
    }
    const bad = await sdk(["download", img.id, join(work, "sdk-tampered.raw")]);
    assert.equal(bad.ok, false, "a download whose bytes do not match the checksum must fail");
    // sdk 0.101 raises InvalidResponse("checksum mismatch: ...") there, which it reports by class name only.
    assert.match(bad.error, /Unable to download image: (InvalidResponse|.*checksum mismatch)/);
    await sdk(["delete", img.id]);
  });

  test("openstacksdk: create_image with use_import (glance-direct: stage, then import)", async () => {
    const img = await sdk(["create", `e2e-sdk-import-${tag}`, qcow2Path, "qcow2", "bare", "1"]);
    assert.equal(img.status, "active", `import did not finish: ${JSON.stringify(img)}`);
    assert.equal(img.size, qcow2Bytes.length);
    assert.equal(img.checksum, md5(qcow2Bytes));
    assert.equal(img.hash_value, sha512(qcow2Bytes));
    const out = join(work, "sdk-import-download.qcow2");
    assert.deepEqual(await sdk(["download", img.id, out]), { ok: true, hash_ok: true });
    assert.ok((await readFile(out)).equals(qcow2Bytes));
    await sdk(["delete", img.id]);
  });

  test("SIGTERM stops stratus cleanly (exit 0)", async () => {
    const { code, signal } = await terminateStratus(s);
    assert.equal(signal, null, `stratus died of ${signal}:\n${s.output()}`);
    assert.equal(code, 0, `stratus exited ${code}:\n${s.output()}`);
  });
});

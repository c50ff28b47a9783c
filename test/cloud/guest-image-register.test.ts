// Registration of the built-in guest image: stable names, idempotent, and a newer version retires the older one
// (renamed with its version and hidden, still there for the servers booted from it).
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { GUEST_IMAGE_NAMES, registerGuestImage } from "../../src/cloud/guest-image.js";
import { startCloud, type Cloud } from "../../src/cloud/start.js";
import type { GuestImage } from "../../src/compute/guest-image.js";
import { loadConfig } from "../../src/shared/config.js";

let cloud: Cloud;
let dataDir = "";
let url = "";
let token = "";

/** A stand-in for a built guest image: three small files and a manifest of `version`. */
function fakeBuild(version: string): () => Promise<GuestImage> {
  const dir = join(dataDir, `gi-${version}`);
  return async () => {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir, { recursive: true });
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", join(dir, "disk.qcow2"), "1G"]);
    writeFileSync(join(dir, "vmlinuz"), `kernel ${version}`);
    writeFileSync(join(dir, "initrd"), `initrd ${version}`);
    const f = { size: 1, sha256: "x" };
    return {
      dir,
      disk: join(dir, "disk.qcow2"),
      kernel: join(dir, "vmlinuz"),
      ramdisk: join(dir, "initrd"),
      manifest: {
        version,
        kernel: "k",
        user: "cirros",
        rootLabel: "cirros-rootfs",
        cmdline: "console=ttyS0",
        diskVirtualSize: 1024 ** 3,
        files: { "disk.qcow2": f, vmlinuz: f, initrd: f },
      },
    };
  };
}

const images = async (query: string) => {
  const r = await fetch(`${url}/image/v2/images?${query}`, { headers: { "x-auth-token": token } });
  return ((await r.json()) as { images: Array<Record<string, unknown>> }).images;
};

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "stratus-gi-reg-"));
  const cfg = loadConfig(
    {
      dataDir,
      port: 0,
      logLevel: "silent",
      identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
      compute: { driver: "fake" },
    } as any,
    {},
  );
  cloud = await startCloud(cfg);
  const addr = cloud.app.server.address() as { port: number };
  url = `http://127.0.0.1:${addr.port}`;
  const secrets = JSON.parse(
    (await import("node:fs")).readFileSync(join(dataDir, "bootstrap-secrets.json"), "utf8"),
  ) as { adminPassword: string };
  const r = await fetch(`${url}/identity/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "admin", domain: { id: "default" }, password: secrets.adminPassword } },
        },
        scope: { project: { name: "admin", domain: { id: "default" } } },
      },
    }),
  });
  assert.equal(r.status, 201);
  token = r.headers.get("x-subject-token")!;
});

after(async () => {
  await cloud?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test("stable names, public, direct boot wired to the kernel and ramdisk; registering again changes nothing", async () => {
  const tok = async () => token;
  const first = await registerGuestImage({
    imageUrl: `${url}/image`,
    token: tok,
    build: fakeBuild("1.0-aaa"),
  });
  const direct = await images(`name=${GUEST_IMAGE_NAMES.direct}`);
  assert.equal(direct.length, 1);
  assert.equal(direct[0]!.id, first.directId);
  assert.equal(direct[0]!.visibility, "public");
  assert.equal(direct[0]!.kernel_id, first.kernelId);
  assert.equal(direct[0]!.ramdisk_id, first.ramdiskId);
  assert.equal(direct[0]!.stratus_guest_version, "1.0-aaa");
  // The kernel image holds the kernel (vmlinuz: a PVH-started vmlinux would leave the VGA console blank).
  const data = await fetch(`${url}/image/v2/images/${first.kernelId}/file`, {
    headers: { "x-auth-token": token },
  });
  assert.equal(data.status, 200);
  assert.equal(await data.text(), "kernel 1.0-aaa");
  const again = await registerGuestImage({
    imageUrl: `${url}/image`,
    token: tok,
    build: fakeBuild("1.0-aaa"),
  });
  assert.deepEqual(again, first);
  assert.equal((await images("")).length, 4);
});

test("a newer version takes the names; the older images are renamed with their version and hidden", async () => {
  const tok = async () => token;
  const old = await registerGuestImage({ imageUrl: `${url}/image`, token: tok, build: fakeBuild("1.0-aaa") });
  const cur = await registerGuestImage({ imageUrl: `${url}/image`, token: tok, build: fakeBuild("1.1-bbb") });
  assert.notEqual(cur.diskId, old.diskId);
  const named = await images(`name=${GUEST_IMAGE_NAMES.disk}`);
  assert.deepEqual(
    named.map((i) => i.id),
    [cur.diskId],
  );
  const hidden = await images(`os_hidden=true&name=${GUEST_IMAGE_NAMES.disk}-1.0-aaa`);
  assert.deepEqual(
    hidden.map((i) => [i.id, i.status]),
    [[old.diskId, "active"]],
  );
  assert.equal((await images("")).length, 4, "only the current version is listed");
});

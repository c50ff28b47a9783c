// The qemu-img wrapper, and a cross-check of the inspector against qemu-img on real and hand-built images.
// Tests that need qemu-img (Debian package qemu-utils) skip with a printed reason when it is absent.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { checkDeclaredFormat, inspectStream } from "../../../src/image/inspector/index.js";
import {
  QemuImgError,
  qemuImgAvailable,
  qemuImgFormat,
  qemuImgInfo,
  qemuImgInfoCommand,
  qemuImgInfoProblems,
} from "../../../src/image/inspector/qemu-img.js";
import { MiB, iso, noise, qcow2, vdi, vhdDynamic, vhdFixed, vhdx, vmdkSparse } from "./images.js";

const HAVE_QEMU_IMG = qemuImgAvailable();
const SKIP = HAVE_QEMU_IMG ? false : "qemu-img is not installed (apt-get install qemu-utils)";
if (SKIP) console.log(`# skipping qemu-img tests: ${SKIP}`);

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "stratus-inspector-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function qemuImg(...args: string[]): void {
  execFileSync("qemu-img", args, { stdio: ["ignore", "ignore", "pipe"], cwd: dir });
}

async function inspectFile(path: string) {
  return inspectStream(createReadStream(path, { highWaterMark: 64 * 1024 }));
}

describe("qemu-img wrapper: argument checks (no qemu-img needed)", () => {
  test("refuses to run without an explicit, known format (OSSA-2016-012)", async () => {
    for (const format of ["", undefined, null, "auto", "host_device", "qcow2,file.driver=file", "json"]) {
      await assert.rejects(
        qemuImgInfo("/tmp/x", format as unknown as string),
        (e: unknown) => e instanceof QemuImgError && /explicit, known format/.test(e.message),
        String(format),
      );
    }
  });

  test("refuses an empty path or one with a NUL", async () => {
    await assert.rejects(qemuImgInfo("", "raw"), /needs a file path/);
    await assert.rejects(qemuImgInfo("/tmp/a\0b", "raw"), /needs a file path/);
  });

  test("maps Glance disk formats to qemu drivers", () => {
    assert.equal(qemuImgFormat("vhd"), "vpc");
    assert.equal(qemuImgFormat("iso"), "raw");
    assert.equal(qemuImgFormat("ploop"), "parallels");
    assert.equal(qemuImgFormat("qcow2"), "qcow2");
    assert.equal(qemuImgFormat("toString"), null);
  });

  test("qemuImgAvailable is false for a missing executable", () => {
    assert.equal(qemuImgAvailable("stratus-no-such-qemu-img"), false);
    assert.equal(qemuImgAvailable("/nonexistent/qemu-img"), false);
  });

  test("reports a missing qemu-img clearly", async () => {
    await assert.rejects(
      qemuImgInfo("/tmp/x", "raw", { qemuImg: "stratus-no-such-qemu-img" }),
      /not installed/,
    );
  });
});

describe("qemu-img wrapper: running it", { skip: SKIP }, () => {
  test("the command always carries -f, resource limits, and an absolute path", () => {
    const { command, args } = qemuImgInfoCommand("relative/img", "vhd");
    const all = [command, ...args];
    const f = all.indexOf("-f");
    assert.ok(f > 0 && all[f + 1] === "vpc", all.join(" "));
    assert.ok(all.includes("--output=json"));
    assert.ok(all.at(-1)?.startsWith("/"), "path made absolute");
    if (command.endsWith("prlimit")) {
      assert.ok(args.includes("--as=1073741824") && args.includes("--cpu=30"), args.join(" "));
    } else {
      assert.match(args[1], /ulimit -v/);
    }
  });

  test("returns parsed JSON; forcing -f raw on a qcow2 sees raw (no probing)", async () => {
    const p = join(dir, "plain.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", p, "100M");
    const info = await qemuImgInfo(p, "qcow2");
    assert.equal(info.format, "qcow2");
    assert.equal(info["virtual-size"], 100 * MiB);
    assert.deepEqual(qemuImgInfoProblems(info, "qcow2"), []);
    const asRaw = await qemuImgInfo(p, "raw");
    assert.equal(asRaw.format, "raw");
  });

  test("qemuImgInfoProblems reports backing files and data files", async () => {
    qemuImg("create", "-q", "-f", "qcow2", join(dir, "base.qcow2"), "10M");
    const child = join(dir, "child.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", child);
    assert.match(qemuImgInfoProblems(await qemuImgInfo(child, "qcow2"), "qcow2").join(), /backing file/);
    const withData = join(dir, "datafile.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", "-o", `data_file=${join(dir, "datafile.raw")}`, withData, "10M");
    assert.match(
      qemuImgInfoProblems(await qemuImgInfo(withData, "qcow2"), "qcow2").join(),
      /external data file/,
    );
  });

  test("the sh/ulimit fallback runs qemu-img too, and its memory limit bites", async () => {
    const p = join(dir, "fallback.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", p, "1M");
    const { command, args } = qemuImgInfoCommand(p, "qcow2", { limiter: "ulimit" });
    assert.equal(command, "/bin/sh");
    assert.match(args[1], /ulimit -v "\$1" && ulimit -t "\$2"/);
    assert.equal((await qemuImgInfo(p, "qcow2", { limiter: "ulimit" }))["virtual-size"], MiB);
    await assert.rejects(
      qemuImgInfo(p, "qcow2", { limiter: "ulimit", addressSpaceBytes: 4 * MiB }),
      QemuImgError,
    );
  });

  test("errors: a file qemu-img cannot open, a timeout, a tiny memory limit", async () => {
    const junk = join(dir, "junk.vdi");
    await writeFile(junk, noise(4096));
    await assert.rejects(
      qemuImgInfo(junk, "vdi"),
      (e: unknown) => e instanceof QemuImgError && /failed \(exit 1\)/.test(e.message),
    );
    await assert.rejects(qemuImgInfo(junk, "raw", { timeoutMs: 1 }), /timed out after 1 ms/);
    await assert.rejects(qemuImgInfo(junk, "raw", { addressSpaceBytes: 4 * 1024 * 1024 }), QemuImgError);
  });
});

describe("cross-check with qemu-img", { skip: SKIP }, () => {
  const real: Array<{ name: string; create: string[]; format: string; driver: string }> = [
    { name: "q2.qcow2", create: ["-f", "qcow2", "-o", "compat=0.10"], format: "qcow2", driver: "qcow2" },
    { name: "q3.qcow2", create: ["-f", "qcow2"], format: "qcow2", driver: "qcow2" },
    { name: "ms.vmdk", create: ["-f", "vmdk"], format: "vmdk", driver: "vmdk" },
    {
      name: "so.vmdk",
      create: ["-f", "vmdk", "-o", "subformat=streamOptimized"],
      format: "vmdk",
      driver: "vmdk",
    },
    { name: "dyn.vhd", create: ["-f", "vpc"], format: "vhd", driver: "vpc" },
    { name: "fixed.vhd", create: ["-f", "vpc", "-o", "subformat=fixed"], format: "vhd", driver: "vpc" },
    { name: "x.vhdx", create: ["-f", "vhdx"], format: "vhdx", driver: "vhdx" },
    { name: "d.vdi", create: ["-f", "vdi"], format: "vdi", driver: "vdi" },
    { name: "r.raw", create: ["-f", "raw"], format: "raw", driver: "raw" },
  ];

  for (const img of real) {
    test(`qemu-img-created ${img.name}: same format and virtual size, safe`, async () => {
      const p = join(dir, img.name);
      qemuImg("create", "-q", ...img.create, p, "33M");
      const info = await qemuImgInfo(p, img.format);
      const r = await inspectFile(p);
      assert.equal(r.format, img.format);
      assert.equal(info.format, img.driver);
      assert.equal(r.virtualSize, info["virtual-size"], img.name);
      assert.deepEqual(r.unsafe, []);
      assert.equal(checkDeclaredFormat(img.format, r), null);
    });
  }

  test("qemu-img-created unsafe images are flagged: backing file, data file, flat and split VMDKs, parent VMDK", async () => {
    qemuImg("create", "-q", "-f", "qcow2", "xb.qcow2", "10M");
    qemuImg("create", "-q", "-f", "qcow2", "-b", "xb.qcow2", "-F", "qcow2", "xc.qcow2");
    assert.match((await inspectFile(join(dir, "xc.qcow2"))).unsafe.join(), /backing file "xb.qcow2"/);
    qemuImg("create", "-q", "-f", "qcow2", "-o", "data_file=xd.raw", "xd.qcow2", "10M");
    assert.match((await inspectFile(join(dir, "xd.qcow2"))).unsafe.join(), /external data file/);
    qemuImg("create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat", "xf.vmdk", "10M");
    const flat = await inspectFile(join(dir, "xf.vmdk"));
    assert.equal(flat.format, "vmdk");
    assert.match(flat.unsafe.join(), /extent refers to file "xf-flat.vmdk"/);
    qemuImg("create", "-q", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", "xs.vmdk", "10M");
    assert.match((await inspectFile(join(dir, "xs.vmdk"))).unsafe.join(), /twoGbMaxExtentSparse/);
    qemuImg("create", "-q", "-f", "vmdk", "xp.vmdk", "10M");
    qemuImg("create", "-q", "-f", "vmdk", "-b", "xp.vmdk", "-F", "vmdk", "xq.vmdk");
    assert.match((await inspectFile(join(dir, "xq.vmdk"))).unsafe.join(), /parent image "xp.vmdk"/);
    qemuImg("create", "-q", "-f", "qed", "xe.qed", "10M");
    assert.equal(
      checkDeclaredFormat("raw", await inspectFile(join(dir, "xe.qed"))),
      "declared raw but the data is qed",
    );
  });

  test("a real 1 PiB qcow2 is consistent and accepted; its header edited to 1 PiB on a small image is refused as qemu-img refuses it (issue 8 item 10)", async () => {
    qemuImg("create", "-q", "-f", "qcow2", "pib.qcow2", "1P");
    const big = await inspectFile(join(dir, "pib.qcow2"));
    assert.equal(big.virtualSize, 2 ** 50);
    assert.deepEqual(big.unsafe, []);
    qemuImg("create", "-q", "-f", "qcow2", "small.qcow2", "1M");
    const edited = join(dir, "small.qcow2");
    const data = await readFile(edited);
    data.writeBigUInt64BE(BigInt(2 ** 50), 24);
    await writeFile(edited, data);
    await assert.rejects(qemuImgInfo(edited, "qcow2"), QemuImgError);
    const r = await inspectFile(edited);
    assert.equal(r.format, "qcow2");
    assert.match(r.unsafe.join(), /L1 table is too small for the virtual size \(1 entries, 2097152 needed\)/);
  });

  test("streamOptimized written by qemu-img convert", async () => {
    const src = join(dir, "conv.raw");
    await writeFile(src, Buffer.concat([noise(MiB), Buffer.alloc(3 * MiB)]));
    const out = join(dir, "conv.vmdk");
    qemuImg("convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", src, out);
    const r = await inspectFile(out);
    assert.equal(r.format, "vmdk");
    assert.equal(r.subformat, "streamOptimized");
    assert.equal(r.virtualSize, (await qemuImgInfo(out, "vmdk"))["virtual-size"]);
    assert.deepEqual(r.unsafe, []);
  });

  test("the hand-built test images open in qemu-img with the sizes the inspector reports", async () => {
    const built: Array<[string, string, Buffer]> = [
      ["b2.qcow2", "qcow2", qcow2({ version: 2, size: 5 * MiB })],
      ["b3.qcow2", "qcow2", qcow2({ size: 7 * MiB })],
      ["bms.vmdk", "vmdk", vmdkSparse({ capacity: 4096 })],
      ["bso.vmdk", "vmdk", vmdkSparse({ gdAtEnd: true, capacity: 2048, footerCapacity: 8192 })],
      ["bf.vhd", "vhd", vhdFixed(3 * MiB)],
      ["bd.vhd", "vhd", vhdDynamic(9 * MiB)],
      ["bx.vhdx", "vhdx", vhdx({ size: 11 * MiB })],
      ["bx3.vhdx", "vhdx", vhdx({ size: 13 * MiB, metadataOffset: 3 * MiB })],
      ["bv.vdi", "vdi", vdi(6 * MiB)],
      ["bi.iso", "iso", iso(80)],
    ];
    for (const [name, format, data] of built) {
      const p = join(dir, name);
      await writeFile(p, data);
      const r = await inspectFile(p);
      const info = await qemuImgInfo(p, format);
      assert.equal(r.format, format, name);
      assert.equal(r.virtualSize, info["virtual-size"], name);
    }
  });

  test("a descriptor VMDK aimed at a host file: qemu-img would read it, the inspector refuses it", async () => {
    const secret = join(dir, "secret.txt");
    await writeFile(secret, Buffer.alloc(4096, "s"));
    const p = join(dir, "evil.vmdk");
    await writeFile(
      p,
      `# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 8 FLAT "${secret}" 0\n`,
    );
    const info = await qemuImgInfo(p, "vmdk");
    assert.ok(JSON.stringify(info).includes(secret), "qemu-img follows the extent");
    const r = await inspectFile(p);
    assert.equal(r.format, "vmdk");
    assert.match(checkDeclaredFormat("vmdk", r) ?? "", /secret\.txt/);
    assert.equal(checkDeclaredFormat("raw", r), "declared raw but the data is vmdk");
  });
});

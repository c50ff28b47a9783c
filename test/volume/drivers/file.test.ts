// The file backend: the backend contract for qcow2 and raw volumes, then what is particular to files (thin
// allocation, the format by extra spec, qcow2 images written in, unsafe images refused).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { FileBackend } from "../../../src/volume/drivers/file.js";
import { createVolumeBackend } from "../../../src/volume/drivers/registry.js";
import { qemuImgAvailable } from "../../../src/shared/qemu-img.js";
import { readPrefix, runBackendContract } from "./contract.js";

const SKIP: string | false =
  qemuImgAvailable() || process.env.CI === "true"
    ? false
    : "qemu-img is not installed (apt-get install qemu-utils)";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A file backend on a fresh directory. */
async function fresh(): Promise<FileBackend> {
  const dir = await mkdtemp(join(tmpdir(), "stv-file-"));
  dirs.push(dir);
  return (await createVolumeBackend("file", { dir })) as FileBackend;
}

runBackendContract("file (qcow2)", fresh, new Map([["file:format", "qcow2"]]), SKIP);
runBackendContract("file (raw)", fresh, new Map([["file:format", "raw"]]), SKIP);

describe("file backend", { skip: SKIP }, () => {
  test("volumes are thin files named by id and format; qcow2 is the default", async () => {
    const b = await fresh();
    const q = await b.create({ id: randomUUID(), sizeGb: 4 });
    const r = await b.create({ id: randomUUID(), sizeGb: 4, options: new Map([["file:format", "raw"]]) });
    assert.equal(q.format, "qcow2");
    assert.equal(r.format, "raw");
    assert.match(q.path, /\.qcow2$/);
    assert.equal((await stat(r.path)).size, 4 * 1024 ** 3);
    assert.ok((await stat(r.path)).blocks * 512 < 1024 * 1024, "raw volumes are sparse");
    assert.ok((await stat(q.path)).size < 1024 * 1024, "qcow2 volumes are thin");
    assert.equal((await b.stats()).provisionedCapacityGb, 8);
    await assert.rejects(
      b.create({ id: randomUUID(), sizeGb: 1, options: new Map([["file:format", "vmdk"]]) }),
    );
  });

  test("a qcow2 image is converted into the volume's format; images with a backing file are refused", async () => {
    const b = await fresh();
    const dir = await mkdtemp(join(tmpdir(), "stv-img-"));
    dirs.push(dir);
    const data = randomBytes(65536);
    await writeFile(join(dir, "in.raw"), data);
    execFileSync("qemu-img", [
      "convert",
      "-q",
      "-f",
      "raw",
      "-O",
      "qcow2",
      join(dir, "in.raw"),
      join(dir, "in.qcow2"),
    ]);
    for (const format of ["raw", "qcow2"]) {
      const id = randomUUID();
      await b.create({ id, sizeGb: 1, options: new Map([["file:format", format]]) });
      await b.writeImage(id, createReadStream(join(dir, "in.qcow2")), "qcow2");
      assert.deepEqual(await readPrefix(b, id, data.length), data);
    }
    execFileSync("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-F",
      "raw",
      "-b",
      join(dir, "in.raw"),
      join(dir, "b.qcow2"),
    ]);
    const id = randomUUID();
    await b.create({ id, sizeGb: 1 });
    await assert.rejects(b.writeImage(id, createReadStream(join(dir, "b.qcow2")), "qcow2"), /backing file/);
  });
});

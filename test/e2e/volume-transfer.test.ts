// End to end with Debian's python3-openstackclient against `bin/stratus up` with the `file` volume backend: a
// volume transfer request created in the demo project and accepted by the admin project, and a volume uploaded to
// an image (`image create --volume`) from which a new volume is made with the same bytes (qemu-img compare).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { exec } from "../helpers/stratus-process.js";
import { until } from "../helpers/wait.js";
import { volumeCli } from "./volume-cli.js";

describe("volume transfers and upload to image with the openstack CLI", () => {
  const { s, os, status } = volumeCli("stratus-e2e-vxfer-", "file");
  const available = (name: string, cloud = "stratus-demo") => status("volume", name, "available", cloud);

  test("transfer request create in one project, accept in another", async () => {
    const v = await os(["volume", "create", "--size", "1", "given"]);
    await available("given");
    const req = await os(["volume", "transfer", "request", "create", "--name", "gift", "given"]);
    assert.match(req.auth_key, /^[A-Za-z0-9]{16}$/);
    const acc = await os(
      ["volume", "transfer", "request", "accept", "--auth-key", req.auth_key, req.id],
      "stratus-admin",
    );
    assert.equal(acc.volume_id, v.id);
    const theirs = await available(v.id, "stratus-admin");
    assert.equal(theirs.name, "given");
  });

  test("image create --volume, then a volume from that image has the same bytes", async () => {
    const data = join(s().dir, "e2e-image.raw");
    await writeFile(data, randomBytes(3 * 1024 * 1024 + 512));
    await os([
      "image",
      "create",
      "--disk-format",
      "raw",
      "--container-format",
      "bare",
      "--file",
      data,
      "src-img",
    ]);
    const src = await os(["volume", "create", "--size", "1", "--image", "src-img", "from-img"]);
    await available("from-img");
    const up = await os(["image", "create", "--volume", "from-img", "--disk-format", "qcow2", "vol-img"]);
    assert.equal(up.status, "uploading");
    const img = await until(
      "vol-img active",
      async () => {
        const i = await os(["image", "show", "vol-img"]);
        return i.status === "active" ? i : null;
      },
      60_000,
      200,
    );
    assert.equal(img.disk_format, "qcow2");
    const copy = await os(["volume", "create", "--size", "1", "--image", "vol-img", "copy"]);
    const shown = await available("copy");
    assert.equal(shown.bootable, "true");
    // The copy holds the original bytes (then zeros): qemu-img compare tells any difference.
    const file = (id: string) => join(s().dir, "volumes", `${id}.qcow2`);
    const cmp = await exec(
      "qemu-img",
      ["compare", "-U", "-f", "raw", "-F", "qcow2", data, file(copy.id)],
      process.env,
    );
    assert.equal(cmp.code, 0, `${cmp.stdout} ${cmp.stderr}`);
    const same = await exec("qemu-img", ["compare", "-U", file(src.id), file(copy.id)], process.env);
    assert.equal(same.code, 0, `${same.stdout} ${same.stderr}`);
  });
});

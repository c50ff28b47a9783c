// The guest image's meta_data.json reader (scripts/guest-image/rootfs/usr/libexec/stratus/metadata.awk), which
// replaces jq at boot: run here with busybox's awk, the guest's (the host's busybox when installed, else its awk),
// on OpenStack metadata with escapes, nesting, duplicate keys, and on input that is not a JSON object.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { guestImageScript } from "../../src/compute/guest-image.js";
import { has } from "./guest-image-qemu.js";

const script = join(guestImageScript(), "..", "rootfs", "usr", "libexec", "stratus", "metadata.awk");
const awk = has("busybox") ? ["busybox", "awk"] : ["awk"];
const work = mkdtempSync(join(tmpdir(), "stratus-md-awk-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the reader on `json`: its exit code, stdout, and the keys file's lines. */
function read(json: string): { code: number | null; vars: Record<string, string>; keys: string[] } {
  const keys = join(work, "keys");
  rmSync(keys, { force: true });
  const r = spawnSync(awk[0], [...awk.slice(1), "-v", `keys=${keys}`, "-f", script], { input: json });
  // Evaluate the printed assignments with a real shell and print them back NUL-separated.
  const vars: Record<string, string> = {};
  if (r.status === 0) {
    const names = ["md_uuid", "md_name", "md_hostname", "md_az", "md_admin_pass"];
    const sh = spawnSync("sh", [
      "-c",
      `eval "$1"; printf '%s\\0' ${names.map((n) => `"$${n}"`).join(" ")}`,
      "sh",
      r.stdout.toString(),
    ]);
    sh.stdout
      .toString()
      .split("\0")
      .slice(0, names.length)
      .forEach((v, i) => (vars[names[i]] = v));
  }
  let lines: string[] = [];
  try {
    lines = readFileSync(keys, "utf8").split("\n").filter(Boolean);
  } catch {
    // not written
  }
  return { code: r.status, vars, keys: lines };
}

describe("guest image: metadata.awk (meta_data.json without jq)", () => {
  test("the instance's fields, shell-quoted; keys from public_keys then keys[].data, each once", () => {
    const md = {
      uuid: "d8e02d56-2648-49a3-bf97-6be8f1204f38",
      meta: { nested: { list: [1, 2.5e3, true, null, { name: "not me" }] } },
      public_keys: { a: "ssh-ed25519 AAAA me@host\n", b: 'ssh-rsa BBBB quote"d' },
      keys: [
        { name: "a", type: "ssh", data: "ssh-ed25519 AAAA me@host\n" },
        { name: "c", type: "ssh", data: "ecdsa-sha2-nistp256 CCCC it's" },
      ],
      hostname: "vm1.novalocal",
      name: "vm 'one' $(reboot) `x` \\ é\u0041",
      availability_zone: "nova",
      admin_pass: "p\\a$s`s'\n2",
      launch_index: 0,
      devices: [],
    };
    const r = read(JSON.stringify(md, null, 1));
    assert.equal(r.code, 0);
    assert.deepEqual(r.vars, {
      md_uuid: md.uuid,
      md_name: md.name,
      md_hostname: "vm1.novalocal",
      md_az: "nova",
      md_admin_pass: md.admin_pass,
    });
    assert.deepEqual(r.keys, [
      "ssh-ed25519 AAAA me@host",
      'ssh-rsa BBBB quote"d',
      "ecdsa-sha2-nistp256 CCCC it's",
    ]);
  });

  test("\\u escapes (ASCII and beyond) and absent fields", () => {
    const r = read('{"uuid":"\\u0061\\u00e9\\u20ac","public_keys":{}}');
    assert.equal(r.code, 0);
    assert.equal(r.vars.md_uuid, "aé€");
    assert.equal(r.vars.md_hostname, "");
    assert.deepEqual(r.keys, []);
  });

  test("input that is not a JSON object fails, printing nothing to apply", () => {
    for (const bad of ["", "[1]", '{"uuid": ', '{"uuid" "x"}', '{"a": tru}', "not json"]) {
      const r = read(bad);
      assert.notEqual(r.code, 0, JSON.stringify(bad));
      assert.deepEqual(r.vars, {}, JSON.stringify(bad));
    }
  });
});

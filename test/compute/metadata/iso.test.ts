// The config drive's ISO 9660 image: read back by a small reader (Rock Ridge names, label, contents, records
// within sectors), by isoinfo when installed (genisoimage; a TEST_PACKAGES entry), and its limits.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildConfigDrive, configDriveFiles } from "../../../src/compute/metadata/config-drive.js";
import { buildIso9660 } from "../../../src/compute/metadata/iso9660.js";
import { readIso } from "./iso-reader.js";
import { sampleOptions, sampleSource } from "./fixtures.js";

const isoinfo = spawnSync("isoinfo", ["-version"], { encoding: "utf8" });
const noIsoinfo = isoinfo.error ? "isoinfo is not installed (Debian package genisoimage)" : false;

test("config drive round-trips: label config-2, Rock Ridge names, every file's bytes", () => {
  const files = configDriveFiles(sampleSource(), sampleOptions());
  const iso = readIso(buildConfigDrive(sampleSource(), sampleOptions()));
  assert.equal(iso.volumeId, "config-2");
  assert.equal(iso.rockRidge, true);
  assert.equal(iso.files.size, files.length);
  for (const f of files) assert.deepEqual(iso.files.get(f.path), f.data, f.path);
  const md = JSON.parse(iso.files.get("openstack/latest/meta_data.json")!.toString());
  assert.equal(md.uuid, sampleSource().uuid);
  assert.ok(iso.files.has("openstack/latest/vendor_data2.json"));
  assert.ok(iso.dirs.includes("openstack/2018-08-27"));
  for (const names of iso.isoNames.values())
    assert.equal(new Set(names).size, names.length, "unique ISO names");
});

test("big files, empty files, crowded directories and colliding 8.3 names survive", () => {
  const big = randomBytes(3 * 1024 * 1024 + 123);
  const files = [
    { path: "a/big.bin", data: big },
    { path: "a/empty", data: Buffer.alloc(0) },
    ...Array.from({ length: 120 }, (_, i) => ({
      path: `crowd/a-rather-long-file-name-number-${i}.json`,
      data: Buffer.from(`{"n":${i}}`),
    })),
    { path: "x/UPPER.TXT", data: Buffer.from("1") },
    { path: "x/upper.txt", data: Buffer.from("2") },
  ];
  const img = buildIso9660(files, { volumeId: "test", date: new Date("2026-01-02T03:04:05Z") });
  const iso = readIso(img);
  assert.equal(iso.files.size, files.length);
  for (const f of files) assert.deepEqual(iso.files.get(f.path), f.data, f.path);
  assert.ok(iso.isoNames.get("crowd")!.length === 120);
});

test("bad paths and oversized input are refused with a clear error", () => {
  const d = Buffer.from("x");
  assert.throws(() => buildIso9660([{ path: "a/../b", data: d }], { volumeId: "v" }), /invalid name/);
  assert.throws(() => buildIso9660([{ path: "", data: d }], { volumeId: "v" }), /empty path/);
  assert.throws(
    () =>
      buildIso9660(
        [
          { path: "a", data: d },
          { path: "a/b", data: d },
        ],
        { volumeId: "v" },
      ),
    /clashes/,
  );
  assert.throws(() => buildIso9660([{ path: "x".repeat(300), data: d }], { volumeId: "v" }), /invalid name/);
  assert.throws(
    () => buildIso9660([{ path: "f", data: Buffer.alloc(100) }], { volumeId: "v", maxFileBytes: 99 }),
    /larger/,
  );
  assert.throws(() => buildIso9660([], { volumeId: "x".repeat(33) }), /volume id/);
  assert.throws(() => buildIso9660([{ path: "1/2/3/4/5/6/7/8", data: d }], { volumeId: "v" }), /too deep/);
});

test(
  "isoinfo reads the config drive: label, Rock Ridge listing and file contents",
  { skip: noIsoinfo },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "stratus-iso-"));
    try {
      const file = join(dir, "disk.config");
      writeFileSync(file, buildConfigDrive(sampleSource(), sampleOptions()));
      const run = (...args: string[]) => {
        const r = spawnSync("isoinfo", [...args, "-i", file], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        return r.stdout;
      };
      const info = run("-d");
      assert.match(info, /Volume id: config-2/);
      assert.match(info, /Rock Ridge signatures version 1 found/);
      const listing = run("-R", "-l");
      for (const name of [
        "meta_data.json",
        "vendor_data2.json",
        "network_data.json",
        "user_data",
        "meta-data.json",
      ])
        assert.match(listing, new RegExp(` ${name.replace(".", "\\.")} *$`, "m"), name);
      const md = JSON.parse(run("-R", "-x", "/openstack/latest/meta_data.json"));
      assert.equal(md.hostname, "vm1.novalocal");
      assert.equal(run("-R", "-x", "/ec2/latest/user-data"), "#!/bin/sh\necho hello from user data\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

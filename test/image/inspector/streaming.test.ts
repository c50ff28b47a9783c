// The inspector gives the same answer whatever the chunking, and keeps memory bounded on big streams.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createInspector } from "../../../src/image/inspector/index.js";
import {
  KiB,
  MiB,
  feed,
  iso,
  noise,
  qcow2,
  rawGpt,
  vdi,
  vhdDynamic,
  vhdFixed,
  vhdx,
  vmdkDescriptorText,
  vmdkSparse,
} from "./images.js";

describe("chunking", () => {
  const images: Array<[string, Buffer]> = [
    ["qcow2 v2", qcow2({ version: 2 })],
    ["qcow2 v3", qcow2({ version: 3 })],
    ["qcow2 backing", qcow2({ backing: "/etc/passwd" })],
    ["qcow2 data file", qcow2({ dataFileBit: true, dataFileName: "/dev/sda" })],
    ["vmdk monolithicSparse", vmdkSparse()],
    ["vmdk streamOptimized", vmdkSparse({ gdAtEnd: true, footerCapacity: 4096 })],
    ["vmdk descriptor", Buffer.from(vmdkDescriptorText("monolithicFlat", ['RW 8 FLAT "/etc/passwd" 0']))],
    ["vmdk bad extent", vmdkSparse({ extents: ['RW 8 FLAT "/etc/passwd" 0'] })],
    ["vhd fixed", vhdFixed(2 * MiB)],
    ["vhd dynamic", vhdDynamic()],
    ["vhdx", vhdx()],
    // Metadata at exactly the end of the head, and beyond it: captured while streaming.
    ["vhdx metadata at 2 MiB", vhdx({ metadataOffset: 2 * MiB })],
    ["vhdx metadata at 3 MiB", vhdx({ metadataOffset: 3 * MiB, hasParentFlag: true })],
    ["vdi", vdi()],
    ["iso", iso(100, { mbr: true })],
    ["raw", noise(2 * MiB + 333)],
    ["raw gpt", rawGpt()],
  ];

  for (const [name, data] of images) {
    test(`${name}: 1-byte, 7-byte, 64 KiB and whole-buffer chunks agree`, () => {
      const whole = feed(createInspector(), data, data.length || 1);
      assert.notEqual(whole.virtualSize, null, `${name} should have a virtual size`);
      for (const chunk of [1, 7, 64 * KiB]) {
        assert.deepEqual(feed(createInspector(), data, chunk), whole, `${name} in ${chunk}-byte chunks`);
      }
    });
  }
});

describe("memory", () => {
  test("a 200 MiB raw stream keeps memory bounded", () => {
    const chunk = Buffer.alloc(MiB);
    const before = process.memoryUsage();
    const inspector = createInspector();
    for (let i = 0; i < 200; i++) {
      chunk.fill(i & 0xff); // fresh content each time, generated in place
      inspector.write(chunk);
    }
    const r = inspector.finish();
    const after = process.memoryUsage();
    assert.equal(r.format, "raw");
    assert.equal(r.virtualSize, 200 * MiB);
    assert.equal(r.actualSize, 200 * MiB);
    const grew = after.arrayBuffers + after.heapUsed - (before.arrayBuffers + before.heapUsed);
    const rss = after.rss - before.rss;
    console.log(
      `# 200 MiB stream: heap+buffers grew ${(grew / MiB).toFixed(1)} MiB, rss ${(rss / MiB).toFixed(1)} MiB`,
    );
    assert.ok(grew < 32 * MiB, `heap + array buffers grew by ${grew} bytes`);
    assert.ok(rss < 64 * MiB, `rss grew by ${rss} bytes`);
  });

  test("a 200 MiB qcow2-headed stream fed in fresh 64 KiB chunks keeps memory bounded", () => {
    const header = qcow2({ size: 400 * MiB });
    const before = process.memoryUsage();
    const inspector = createInspector();
    inspector.write(header);
    for (let written = header.length; written < 200 * MiB; written += 64 * KiB) {
      inspector.write(Buffer.alloc(64 * KiB, written & 0xff));
    }
    const r = inspector.finish();
    const after = process.memoryUsage();
    assert.equal(r.format, "qcow2");
    assert.equal(r.virtualSize, 400 * MiB);
    assert.ok(after.rss - before.rss < 96 * MiB, `rss grew by ${after.rss - before.rss} bytes`);
  });
});

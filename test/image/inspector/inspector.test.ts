// Format detection, virtual size and safety findings of the streaming inspector, on images built by hand.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createInspector, inspectStream, type InspectionResult } from "../../../src/image/inspector/index.js";
import {
  KiB,
  MiB,
  feed,
  iso,
  noise,
  qcow2,
  rawGpt,
  rawMbr,
  vdi,
  vhdDynamic,
  vhdFixed,
  vhdFooter,
  vhdx,
  vmdkDescriptorText,
  vmdkSparse,
} from "./images.js";

function inspect(data: Buffer, chunk = 64 * KiB): InspectionResult {
  return feed(createInspector(), data, chunk);
}

function assertUnsafe(r: InspectionResult, pattern: RegExp): void {
  assert.ok(
    r.unsafe.some((u) => pattern.test(u)),
    `expected an unsafe finding matching ${pattern}, got ${JSON.stringify(r.unsafe)}`,
  );
}

describe("qcow2", () => {
  test("clean v2 and v3 images: format, virtual size, nothing unsafe", () => {
    for (const version of [2, 3] as const) {
      const r = inspect(qcow2({ version, size: 10 * 1024 * MiB }));
      assert.equal(r.format, "qcow2");
      assert.equal(r.virtualSize, 10 * 1024 * MiB);
      assert.deepEqual(r.unsafe, []);
      assert.equal(r.subformat, `v${version}`);
      assert.equal(r.actualSize, 4 * 64 * KiB);
    }
  });

  test("a backing file is unsafe (OSSA-2024-001), v2 and v3", () => {
    for (const version of [2, 3] as const) {
      const r = inspect(qcow2({ version, backing: "/etc/shadow" }));
      assert.equal(r.format, "qcow2");
      assertUnsafe(r, /backing file "\/etc\/shadow"/);
    }
  });

  test("an external data file is unsafe: by the incompatible feature bit, or by the header extension", () => {
    const both = inspect(qcow2({ dataFileBit: true, dataFileName: "/dev/sda" }));
    assertUnsafe(both, /uses an external data file/);
    assertUnsafe(both, /names an external data file "\/dev\/sda"/);
    assertUnsafe(inspect(qcow2({ dataFileBit: true })), /external data file/);
    assertUnsafe(inspect(qcow2({ dataFileName: "/etc/passwd" })), /external data file "\/etc\/passwd"/);
  });

  test("unknown incompatible features, bad versions and truncated headers are refused", () => {
    assertUnsafe(inspect(qcow2({ incompatible: 1n << 40n })), /unknown incompatible features/);
    const v4 = qcow2();
    v4.writeUInt32BE(4, 4);
    assertUnsafe(inspect(v4), /unsupported qcow2 version 4/);
    const v1 = qcow2();
    v1.writeUInt32BE(1, 4);
    const r1 = inspect(v1);
    assert.equal(r1.format, "qcow2");
    assertUnsafe(r1, /qcow version 1/);
    const short = inspect(qcow2().subarray(0, 40));
    assert.equal(short.format, "qcow2");
    assertUnsafe(short, /truncated/);
  });

  test("inconsistent tables are refused: L1 too small for the size, too large, misplaced, past the end (issue 8 item 10)", () => {
    assertUnsafe(inspect(qcow2({ l1Size: 1, size: 2 ** 50 })), /L1 table is too small for the virtual size/);
    const edited = qcow2({ size: MiB });
    edited.writeBigUInt64BE(BigInt(2 ** 50), 24);
    assertUnsafe(inspect(edited), /L1 table is too small for the virtual size \(1 entries, 2097152 needed\)/);
    assertUnsafe(inspect(qcow2({ l1Size: 8 * MiB })), /L1 table is too large/);
    const misplaced = qcow2();
    misplaced.writeBigUInt64BE(12345n, 40);
    assertUnsafe(inspect(misplaced), /invalid qcow2 L1 table offset/);
    const noRefcounts = qcow2();
    noRefcounts.writeBigUInt64BE(0n, 48);
    assertUnsafe(inspect(noRefcounts), /invalid qcow2 refcount table offset/);
    assertUnsafe(inspect(qcow2({ size: 2 ** 40 }).subarray(0, 3 * 64 * KiB)), /L1 table lies beyond the end/);
    const extended = qcow2({ size: 2 ** 40, incompatible: 1n << 4n });
    assertUnsafe(
      inspect(extended),
      /L1 table is too small for the virtual size \(2048 entries, 4096 needed\)/,
    );
    const pib = inspect(qcow2({ size: 2 ** 50 }));
    assert.equal(pib.virtualSize, 2 ** 50);
    assert.deepEqual(pib.unsafe, []);
  });

  test("a raw stream that starts with a qcow2 header IS qcow2", () => {
    const data = Buffer.concat([qcow2({ backing: "/etc/passwd" }).subarray(0, 512), noise(MiB)]);
    const r = inspect(data);
    assert.equal(r.format, "qcow2");
    assertUnsafe(r, /backing file/);
  });
});

describe("vmdk", () => {
  test("monolithicSparse: capacity × 512, safe", () => {
    const r = inspect(vmdkSparse({ capacity: 4 * 1024 * 2048 }));
    assert.equal(r.format, "vmdk");
    assert.equal(r.subformat, "monolithicSparse");
    assert.equal(r.virtualSize, 4 * 1024 * MiB);
    assert.deepEqual(r.unsafe, []);
  });

  test("streamOptimized with the grain directory at the end: the footer's capacity counts, safe", () => {
    const r = inspect(vmdkSparse({ gdAtEnd: true, capacity: 2048, footerCapacity: 4096 }));
    assert.equal(r.format, "vmdk");
    assert.equal(r.subformat, "streamOptimized");
    assert.equal(r.virtualSize, 4096 * 512);
    assert.deepEqual(r.unsafe, []);
    const plain = inspect(vmdkSparse({ createType: "streamOptimized" }));
    assert.deepEqual(plain.unsafe, []);
  });

  test("streamOptimized whose footer is missing is refused", () => {
    assertUnsafe(inspect(vmdkSparse({ gdAtEnd: true, footer: false })), /footer is missing or invalid/);
  });

  test("a descriptor-only VMDK pointing at /etc/passwd is detected as vmdk and refused (OSSA-2023-002)", () => {
    const text = vmdkDescriptorText("monolithicFlat", ['RW 2048 FLAT "/etc/passwd" 0']);
    const r = inspect(Buffer.from(text));
    assert.equal(r.format, "vmdk");
    assert.equal(r.virtualSize, 2048 * 512);
    assertUnsafe(r, /descriptor file/);
    assertUnsafe(r, /extent refers to file "\/etc\/passwd"/);
    assertUnsafe(r, /createType "monolithicFlat" is not allowed/);
    // Even a descriptor claiming an allowed type is refused: its data is elsewhere.
    const sneaky = inspect(Buffer.from(vmdkDescriptorText("monolithicSparse", ['RW 8 SPARSE "x.vmdk"'])));
    assert.equal(sneaky.format, "vmdk");
    assertUnsafe(sneaky, /descriptor file/);
  });

  test("a text file qemu would probe as a VMDK descriptor (comments, then version=1) is vmdk", () => {
    const r = inspect(Buffer.from("# hello\n   \nversion=1\n\u0001\u0002binary"));
    assert.equal(r.format, "vmdk");
    assert.ok(r.unsafe.length > 0);
  });

  test("monolithicSparse whose embedded descriptor has an extent pointing at another file is refused", () => {
    assertUnsafe(
      inspect(vmdkSparse({ extents: ['RW 131072 SPARSE "/var/lib/stratus/images/other"'] })),
      /extent refers to another file/,
    );
    assertUnsafe(
      inspect(vmdkSparse({ extents: ['RW 8 FLAT "/etc/passwd" 0'] })),
      /extent of type FLAT "\/etc\/passwd"/,
    );
    assertUnsafe(
      inspect(vmdkSparse({ extents: ['RW 131072 SPARSE "disk.vmdk"', 'RW 8 SPARSE "disk2.vmdk"'] })),
      /lists 2 extents/,
    );
  });

  test("other createTypes in a sparse header, parents, zero capacity, odd descriptor lines are refused", () => {
    assertUnsafe(inspect(vmdkSparse({ createType: "vmfsSparse" })), /createType "vmfsSparse" is not allowed/);
    const parent = vmdkDescriptorText(
      "monolithicSparse",
      ['RW 131072 SPARSE "d.vmdk"'],
      '# parentFileNameHint="/x"',
    );
    assertUnsafe(inspect(vmdkSparse({ descriptor: parent })), /references a parent image "\/x"/);
    assertUnsafe(
      inspect(vmdkSparse({ capacity: 0, extents: ['RW 8 SPARSE "d.vmdk"'] })),
      /zero capacity, so its descriptor's extents would be opened as files/,
    );
    const odd = vmdkDescriptorText("monolithicSparse", ['RW 131072 SPARSE "d.vmdk"'], "!include /etc/passwd");
    assertUnsafe(inspect(vmdkSparse({ descriptor: odd })), /unrecognised line/);
    assertUnsafe(inspect(vmdkSparse({ descOffset: 0 })), /no embedded descriptor/);
    const cowd = Buffer.alloc(4096);
    cowd.write("COWD", 0, "latin1");
    cowd.writeUInt32LE(2048, 12);
    const r = inspect(cowd);
    assert.equal(r.format, "vmdk");
    assert.equal(r.virtualSize, MiB);
    assertUnsafe(r, /COWD/);
  });
});

describe("vhd", () => {
  test("fixed (footer only at the end)", () => {
    const r = inspect(vhdFixed(3 * MiB));
    assert.equal(r.format, "vhd");
    assert.equal(r.subformat, "fixed");
    assert.equal(r.virtualSize, 3 * MiB);
    assert.deepEqual(r.unsafe, []);
  });

  test("dynamic (footer copy at the start)", () => {
    const r = inspect(vhdDynamic(40 * MiB));
    assert.equal(r.format, "vhd");
    assert.equal(r.subformat, "dynamic");
    assert.equal(r.virtualSize, 40 * MiB);
    assert.deepEqual(r.unsafe, []);
  });

  test("differencing disks read a parent file: refused", () => {
    const r = inspect(vhdDynamic(40 * MiB, 4));
    assert.equal(r.format, "vhd");
    assertUnsafe(r, /differencing VHD/);
  });
});

describe("vhdx", () => {
  test("metadata inside the first 2 MiB", () => {
    const r = inspect(vhdx({ size: 20 * 1024 * MiB }));
    assert.equal(r.format, "vhdx");
    assert.equal(r.virtualSize, 20 * 1024 * MiB);
    assert.deepEqual(r.unsafe, []);
  });

  test("metadata region beyond the head (captured on the fly)", () => {
    const r = inspect(vhdx({ size: 3 * MiB, metadataOffset: 5 * MiB }));
    assert.equal(r.format, "vhdx");
    assert.equal(r.virtualSize, 3 * MiB);
    assert.deepEqual(r.unsafe, []);
  });

  test("differencing (parent locator or HasParent) is refused", () => {
    assertUnsafe(inspect(vhdx({ parentLocator: true })), /parent locator/);
    assertUnsafe(inspect(vhdx({ hasParentFlag: true, metadataOffset: 3 * MiB })), /HasParent/);
  });

  test("truncated before the metadata, or without a virtual disk size: no size, refused", () => {
    const cut = inspect(vhdx({ metadataOffset: 3 * MiB }).subarray(0, 2 * MiB + 100));
    assert.equal(cut.format, "vhdx");
    assert.equal(cut.virtualSize, null);
    assertUnsafe(cut, /could not read the VHDX metadata table/);
    assertUnsafe(inspect(vhdx({ omitVirtualDiskSize: true })), /no virtual disk size/);
    assertUnsafe(inspect(vhdx().subarray(0, 100 * KiB)), /truncated VHDX header/);
  });
});

describe("vdi, iso, raw", () => {
  test("vdi: disk size from the header; differencing refused", () => {
    const r = inspect(vdi(100 * MiB));
    assert.equal(r.format, "vdi");
    assert.equal(r.virtualSize, 100 * MiB);
    assert.deepEqual(r.unsafe, []);
    assertUnsafe(inspect(vdi(100 * MiB, 4)), /differencing VDI depends on a parent/);
  });

  test("iso: volume space size × logical block size; a hybrid ISO with an MBR is still iso", () => {
    const r = inspect(iso(300));
    assert.equal(r.format, "iso");
    assert.equal(r.virtualSize, 300 * 2048);
    assert.deepEqual(r.unsafe, []);
    const hybrid = inspect(iso(300, { mbr: true }));
    assert.equal(hybrid.format, "iso");
    assert.deepEqual(hybrid.signatures, ["iso", "mbr"]);
    assert.deepEqual(hybrid.unsafe, []);
  });

  test("raw: byte count; MBR and GPT disks are raw", () => {
    for (const data of [noise(3 * MiB + 7), Buffer.alloc(0), Buffer.alloc(100), rawMbr(), rawGpt()]) {
      const r = inspect(data);
      assert.equal(r.format, "raw");
      assert.equal(r.virtualSize, data.length);
      assert.deepEqual(r.unsafe, []);
    }
    assert.deepEqual(inspect(rawMbr()).signatures, ["mbr"]);
    assert.deepEqual(inspect(rawGpt()).signatures, ["gpt"]);
  });

  test("other formats qemu probes are reported as raw with their signature; QED is banned", () => {
    const qed = Buffer.alloc(4096);
    qed.write("QED\0", 0, "latin1");
    const r = inspect(qed);
    assert.equal(r.format, "raw");
    assert.deepEqual(r.signatures, ["qed"]);
    assertUnsafe(r, /QED images are not allowed/);
    const luks = Buffer.alloc(4096);
    Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]).copy(luks);
    assert.deepEqual(inspect(luks).signatures, ["luks"]);
  });
});

describe("ambiguous images", () => {
  test("qcow2 that also carries an ISO volume descriptor is qcow2 and refused", () => {
    const data = qcow2({ clusterBits: 9 });
    const both = Buffer.concat([data, Buffer.alloc(64 * KiB)]);
    iso(32).copy(both, 32 * KiB, 32 * KiB, 36 * KiB);
    const r = inspect(both);
    assert.equal(r.format, "qcow2");
    assertUnsafe(r, /ambiguous image: the data looks like qcow2 and iso/);
  });

  test("qcow2 with a VDI signature, or with a VHD footer at the end, is refused", () => {
    const withVdi = qcow2();
    withVdi.writeUInt32LE(0xbeda107f, 0x40);
    assertUnsafe(inspect(withVdi), /qcow2 and vdi/);
    const withFooter = Buffer.concat([qcow2(), vhdFooter(2, 4 * 64 * KiB, 0xffffffffffffffffn)]);
    const r = inspect(withFooter);
    assert.equal(r.format, "qcow2");
    assertUnsafe(r, /qcow2 and vhd/);
  });

  test("an ISO that is also a fixed VHD is refused", () => {
    const r = inspect(Buffer.concat([iso(40), vhdFooter(2, 40 * 2048, 0xffffffffffffffffn)]));
    assertUnsafe(r, /ambiguous image: the data looks like vhd and iso/);
  });
});

describe("streaming API", () => {
  test("inspectStream takes (async) iterables; write after finish throws; finish is idempotent", async () => {
    async function* chunks() {
      const data = qcow2();
      for (let i = 0; i < data.length; i += 1000) yield data.subarray(i, i + 1000);
    }
    const r = await inspectStream(chunks());
    assert.equal(r.format, "qcow2");
    const ins = createInspector();
    ins.write(Buffer.from("hello"));
    const first = ins.finish();
    assert.equal(ins.finish(), first);
    assert.throws(() => ins.write(Buffer.from("x")), /after finish/);
  });
});

// checkDeclaredFormat: the declared disk_format must match the bytes, and the bytes must be safe.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkDeclaredFormat,
  createInspector,
  type InspectionResult,
} from "../../../src/image/inspector/index.js";
import {
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

const inspect = (data: Buffer): InspectionResult => feed(createInspector(), data, 65536);

function magicImage(magic: string | Buffer): Buffer {
  const b = Buffer.alloc(8192);
  (typeof magic === "string" ? Buffer.from(magic, "latin1") : magic).copy(b);
  return b;
}

describe("checkDeclaredFormat", () => {
  test("every format declared as what it is passes", () => {
    const cases: Array<[string, Buffer]> = [
      ["qcow2", qcow2()],
      ["vmdk", vmdkSparse()],
      ["vmdk", vmdkSparse({ gdAtEnd: true })],
      ["vhd", vhdFixed()],
      ["vhd", vhdDynamic()],
      ["vhdx", vhdx()],
      ["vdi", vdi()],
      ["iso", iso()],
      ["raw", noise(MiB)],
      ["raw", rawGpt()],
    ];
    for (const [declared, data] of cases) {
      assert.equal(checkDeclaredFormat(declared, inspect(data)), null, declared);
    }
  });

  test("qcow2 uploaded as raw is refused (OSSA-2024-002)", () => {
    assert.equal(checkDeclaredFormat("raw", inspect(qcow2())), "declared raw but the data is qcow2");
  });

  test("vmdk declared as qcow2, and other mismatches, are refused", () => {
    assert.equal(checkDeclaredFormat("qcow2", inspect(vmdkSparse())), "declared qcow2 but the data is vmdk");
    assert.equal(checkDeclaredFormat("iso", inspect(noise(MiB))), "declared iso but the data is raw");
    assert.equal(checkDeclaredFormat("vhd", inspect(vhdx())), "declared vhd but the data is vhdx");
    assert.equal(checkDeclaredFormat("raw", inspect(vdi())), "declared raw but the data is vdi");
  });

  test("a descriptor VMDK declared as raw or vmdk is refused", () => {
    const desc = inspect(Buffer.from(vmdkDescriptorText("monolithicFlat", ['RW 8 FLAT "/etc/passwd" 0'])));
    assert.equal(checkDeclaredFormat("raw", desc), "declared raw but the data is vmdk");
    assert.match(checkDeclaredFormat("vmdk", desc) ?? "", /^image is unsafe: .*"\/etc\/passwd"/);
  });

  test("unsafe content is refused even when the format matches", () => {
    assert.match(
      checkDeclaredFormat("qcow2", inspect(qcow2({ backing: "/etc/passwd" }))) ?? "",
      /backing file/,
    );
    assert.match(checkDeclaredFormat("vhd", inspect(vhdDynamic(MiB, 4))) ?? "", /differencing/);
  });

  test("an ISO declared as raw is refused by default (as Nova and Glance's import checks do), allowed on request", () => {
    const r = inspect(iso());
    assert.equal(checkDeclaredFormat("raw", r), "declared raw but the data is iso");
    assert.equal(checkDeclaredFormat("raw", r, { allowIsoAsRaw: true }), null);
  });

  test("raw declared over other qemu-probed formats is refused", () => {
    assert.equal(
      checkDeclaredFormat("raw", inspect(magicImage("WithoutFreeSpace"))),
      "declared raw but the data is parallels",
    );
    assert.equal(
      checkDeclaredFormat("raw", inspect(magicImage(Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe])))),
      "declared raw but the data is luks",
    );
    assert.equal(
      checkDeclaredFormat("raw", inspect(magicImage("QED\0"))),
      "declared raw but the data is qed",
    );
  });

  test("ami/ari/aki/ploop are taken as declared unless the bytes are a detectable disk format", () => {
    for (const declared of ["ami", "ari", "aki", "ploop"]) {
      assert.equal(checkDeclaredFormat(declared, inspect(noise(MiB))), null, declared);
      assert.equal(
        checkDeclaredFormat(declared, inspect(qcow2())),
        `declared ${declared} but the data is qcow2`,
      );
      assert.equal(
        checkDeclaredFormat(declared, inspect(vmdkSparse())),
        `declared ${declared} but the data is vmdk`,
      );
      assert.equal(
        checkDeclaredFormat(declared, inspect(vhdFixed())),
        `declared ${declared} but the data is vhd`,
      );
      assert.equal(
        checkDeclaredFormat(declared, inspect(vhdx())),
        `declared ${declared} but the data is vhdx`,
      );
      assert.equal(checkDeclaredFormat(declared, inspect(vdi())), `declared ${declared} but the data is vdi`);
      assert.equal(checkDeclaredFormat(declared, inspect(iso())), null, `${declared} over iso`);
    }
    const ploop = inspect(magicImage("WithouFreSpacExt"));
    assert.equal(checkDeclaredFormat("ploop", ploop), null);
    assert.equal(checkDeclaredFormat("ami", ploop), "declared ami but the data is parallels");
  });

  test("an empty declared format is refused; case and surrounding space are ignored", () => {
    assert.equal(checkDeclaredFormat("", inspect(noise(100))), "no disk_format declared");
    assert.equal(checkDeclaredFormat(" QCOW2 ", inspect(qcow2())), null);
  });
});

// The boot benchmark's arithmetic (bench/boot-phases.ts): phases from a boot's moments, medians, targets and rows.
import { strict as assert } from "node:assert";
import { describe, test } from "node:test";
import {
  fmtMs,
  phasesOf,
  styleRows,
  summarize,
  summarizeBoots,
  targetsFor,
  type BootMarks,
  type Phase,
} from "../../bench/boot-phases.js";
import { traceMarks } from "../../bench/boot-guest.js";

const marks = (base: number, extra: Partial<BootMarks> = {}): BootMarks => ({
  post: base,
  accepted: base + 10,
  spawn: base + 30,
  launch: base + 110,
  qemuForked: base + 130,
  kernel: base + 600,
  init: base + 2600,
  firstByte: base + 3110,
  banner: base + 7000,
  ssh: base + 7310,
  ...extra,
});

describe("boot phases", () => {
  test("each phase is the span between its two moments", () => {
    const p = phasesOf(marks(1_000_000));
    assert.deepEqual(Object.fromEntries(p), {
      api: 10,
      control: 100,
      "control.schedule": 20,
      "control.spawn": 80,
      qemu: 3000,
      "qemu.fork": 20,
      "qemu.kernel": 490,
      "qemu.init": 2000,
      "qemu.user": 510,
      guest: 4200,
      "guest.ssh": 310,
      total: 7310,
    });
  });

  test("QEMU's CPU time at SSH-ready is its own row, a duration rather than a span", () => {
    assert.equal(phasesOf(marks(5_000, { qemuCpu: 4321 })).get("cpu"), 4321);
    assert.equal(phasesOf(marks(5_000)).has("cpu"), false);
  });

  test("moments not seen leave their phases out; QEMU's own start stands in for the launch line", () => {
    const p = phasesOf(
      marks(0, { launch: undefined, spawn: undefined, banner: undefined, kernel: undefined }),
    );
    assert.equal(p.get("control"), 120);
    assert.equal(p.get("qemu"), 2980);
    const unseen: Phase[] = ["control.schedule", "control.spawn", "qemu.fork", "qemu.kernel", "qemu.init"];
    for (const k of [...unseen, "guest.ssh" as const]) assert.equal(p.has(k), false, k);
  });

  test("median of odd and even counts, min and max, none for no values", () => {
    assert.deepEqual(summarize([5, 1, 4, 2, 3]), { n: 5, p50: 3, min: 1, max: 5 });
    assert.deepEqual(summarize([4, 1, 3, 2]), { n: 4, p50: 2.5, min: 1, max: 4 });
    assert.equal(summarize([]), null);
  });

  test("summaries over boots take each phase from the boots that have it", () => {
    const s = summarizeBoots([marks(0), marks(0, { ssh: 9310 }), marks(0, { banner: undefined, ssh: 8310 })]);
    assert.deepEqual(s.get("total"), { n: 3, p50: 8310, min: 7310, max: 9310 });
    assert.deepEqual(s.get("guest.ssh"), { n: 2, p50: 1310, min: 310, max: 2310 });
  });

  test("targets: control plane 200 ms; total 5 s direct and 10 s disk under TCG, 2 s under KVM", () => {
    assert.equal(targetsFor("direct", "tcg").get("control")?.ms, 200);
    assert.equal(targetsFor("direct", "tcg").get("total")?.ms, 5000);
    assert.equal(targetsFor("disk", "tcg").get("total")?.ms, 10000);
    assert.equal(targetsFor("disk", "kvm").get("total")?.ms, 2000);
  });

  test("rows show p50/min/max and whether the p50 meets the target", () => {
    const rows = styleRows(summarizeBoots([marks(0), marks(0, { ssh: 3000 })]), targetsFor("direct", "tcg"));
    const total = rows.find((r) => r[0].includes("(total)"))!;
    assert.deepEqual(total.slice(1), ["5.16 s", "3.00 s", "7.31 s", "< 5 s (TCG)", "NO"]);
    const control = rows.find((r) => r[0].includes("(control plane)"))!;
    assert.deepEqual(control.slice(1), ["100 ms", "100 ms", "100 ms", "< 200 ms", "yes"]);
    assert.deepEqual([fmtMs(999.4), fmtMs(999.6)], ["999 ms", "1.00 s"]);
  });

  test("the guest's stratus.trace marks in dmesg split its boot; unknown and repeated marks are ignored", () => {
    const dmesg = [
      "[    1.500000] Run /init as init process",
      "[    1.700000] stratus.trace initramfs",
      "[    1.900000] stratus.trace modules",
      "[    2.400000] stratus.trace switch-root",
      "[    2.500000] stratus.trace rcS",
      "[    2.650000] stratus.trace bogus",
      "[    3.000000] stratus.trace metadata",
      "[    3.250000] stratus.trace growroot",
      "[    3.300000] stratus.trace dropbear",
      "[    9.000000] stratus.trace dropbear",
    ].join("\n");
    const trace = traceMarks(dmesg, 10_000);
    assert.deepEqual(trace, {
      initramfs: 11_700,
      modules: 11_900,
      "switch-root": 12_400,
      rcS: 12_500,
      metadata: 13_000,
      growroot: 13_250,
      dropbear: 13_300,
    });
    const p = phasesOf(marks(0, { kernel: 10_000, init: 11_500, ssh: 13_800, trace }));
    assert.equal(p.get("trace.initramfs"), 400);
    assert.equal(p.get("trace.root"), 500);
    assert.equal(p.get("trace.rcs"), 100);
    assert.equal(p.get("trace.growroot"), 750);
    assert.equal(p.get("trace.metadata"), 500);
    assert.equal(p.get("trace.dropbear"), 300);
    assert.equal(p.get("trace.ssh"), 500);
    assert.equal(phasesOf(marks(0)).has("trace.rcs"), false);
  });
});

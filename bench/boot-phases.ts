// The boot benchmark's arithmetic (bench/boot.ts): the phases of one boot from the moments it observed, the
// p50/min/max of each phase over several boots, the targets, and the rows of the result table.

/** Moments (epoch ms) of one boot; the optional ones are absent when they could not be observed. */
export interface BootMarks {
  /** POST /servers sent. */
  post: number;
  /** Its 202 Accepted received. */
  accepted: number;
  /** The instance directory created: the compute agent begins the spawn. */
  spawn?: number;
  /** The serial log created (the driver's "starting QEMU" line): the agent launches QEMU. */
  launch?: number;
  /** QEMU's daemonized process started (/proc/PID/stat starttime, 10 ms ticks). */
  qemuForked?: number;
  /** The guest kernel's clock zero (≈): when a later `ssh` printing the guest's uptime returned, minus that uptime. */
  kernel?: number;
  /** The guest kernel ran /init (its "Run /init" line in dmesg, on the guest's clock). */
  init?: number;
  /** The guest's first byte in the serial log. */
  firstByte?: number;
  /** The SSH banner read on the forwarded port. */
  banner?: number;
  /** The first `ssh ... true` that succeeded returned. */
  ssh: number;
  /** The CPU time (ms) QEMU had used when SSH-ready: the boot's work, which a loaded host stretches less. */
  qemuCpu?: number;
  /** The guest's own marks ("stratus.trace NAME" lines in its kernel log), placed on this clock through `kernel`. */
  trace?: Partial<Record<TraceMark, number>>;
}

/** The guest image's boot marks (scripts/guest-image: initramfs/init, rcS, stratus-cloud-init), in boot order. */
export const TRACE_MARKS = [
  "initramfs",
  "modules",
  "root-found",
  "switch-root",
  "rcS",
  "lease",
  "growroot",
  "rc-modules",
  "no-config-drive",
  "mds-ask",
  "metadata",
  "dropbear",
] as const;

/** A guest boot mark's name. */
export type TraceMark = (typeof TRACE_MARKS)[number];

/** The phases reported, in table order; sub-phases (indented) split the phase above them. */
export const PHASES = [
  { key: "api", label: "POST /servers → 202 Accepted" },
  { key: "control", label: "202 → QEMU launched (control plane)" },
  { key: "control.schedule", label: "  202 → agent starts the spawn (API, scheduler, conductor)" },
  { key: "control.spawn", label: "  agent: image cache, disks, config drive → QEMU launched" },
  { key: "qemu", label: "QEMU launched → first console byte" },
  { key: "qemu.fork", label: "  QEMU launched → its daemon process started" },
  { key: "qemu.kernel", label: "  QEMU launched → guest kernel starts (≈, guest uptime)" },
  { key: "qemu.init", label: "  guest kernel → it runs /init (dmesg)" },
  { key: "qemu.user", label: "  /init → first console byte" },
  { key: "guest", label: "first console byte → SSH ready (guest)" },
  { key: "guest.ssh", label: "  SSH banner → `ssh true` returned" },
  { key: "trace.initramfs", label: "  guest: /init → its modules loaded (initramfs)" },
  { key: "trace.root", label: "  guest: modules → root found, checked, switched to" },
  { key: "trace.rcs", label: "  guest: switch_root → rcS runs" },
  { key: "trace.growroot", label: "  guest: rcS → root grown (in parallel)" },
  { key: "trace.lease", label: "  guest: rcS → first DHCP lease" },
  { key: "trace.nocd", label: "  guest: rcS → no config drive found (its drivers loaded)" },
  { key: "trace.mds", label: "  guest: metadata service asked → answered, applied" },
  { key: "trace.metadata", label: "  guest: rcS → metadata applied (DHCP, metadata)" },
  { key: "trace.dropbear", label: "  guest: metadata → dropbear started (waits for growroot)" },
  { key: "trace.ssh", label: "  guest: dropbear started → `ssh true` returned" },
  { key: "total", label: "POST → SSH ready (total)" },
  { key: "cpu", label: "  QEMU's CPU time until SSH ready (the boot's work, less load-bound)" },
] as const;

/** A phase's key. */
export type Phase = (typeof PHASES)[number]["key"];

const span = (from: number | undefined, to: number | undefined): number | undefined =>
  from === undefined || to === undefined ? undefined : to - from;

/** The duration (ms) of each phase of one boot that its marks allow. */
export function phasesOf(m: BootMarks): Map<Phase, number> {
  // Without the driver's log line, QEMU's own start stands for the launch.
  const launch = m.launch ?? m.qemuForked;
  const t = m.trace ?? {};
  const all: Array<[Phase, number | undefined]> = [
    ["api", span(m.post, m.accepted)],
    ["control", span(m.accepted, launch)],
    ["control.schedule", span(m.accepted, m.spawn)],
    ["control.spawn", span(m.spawn, launch)],
    ["qemu", span(launch, m.firstByte)],
    ["qemu.fork", m.launch === undefined ? undefined : span(m.launch, m.qemuForked)],
    ["qemu.kernel", span(launch, m.kernel)],
    ["qemu.init", span(m.kernel, m.init)],
    ["qemu.user", span(m.init, m.firstByte)],
    ["guest", span(m.firstByte, m.ssh)],
    ["guest.ssh", span(m.banner, m.ssh)],
    ["trace.initramfs", span(m.init, t.modules)],
    ["trace.root", span(t.modules, t["switch-root"])],
    ["trace.rcs", span(t["switch-root"], t.rcS)],
    ["trace.growroot", span(t.rcS, t.growroot)],
    ["trace.lease", span(t.rcS, t.lease)],
    ["trace.nocd", span(t.rcS, t["no-config-drive"])],
    ["trace.mds", span(t["mds-ask"], t.metadata)],
    ["trace.metadata", span(t.rcS, t.metadata)],
    ["trace.dropbear", span(t.metadata, t.dropbear)],
    ["trace.ssh", span(t.dropbear, m.ssh)],
    ["total", span(m.post, m.ssh)],
    ["cpu", m.qemuCpu],
  ];
  const out = new Map<Phase, number>();
  for (const [k, v] of all) if (v !== undefined) out.set(k, v);
  return out;
}

/** The median (mean of the two middle values for an even count), minimum and maximum of some values. */
export interface Summary {
  n: number;
  p50: number;
  min: number;
  max: number;
}

/** Summarize `values`; null when there are none. */
export function summarize(values: number[]): Summary | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const p50 = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { n: v.length, p50, min: v[0], max: v[v.length - 1] };
}

/** Each phase's summary over several boots. */
export function summarizeBoots(boots: BootMarks[]): Map<Phase, Summary> {
  const out = new Map<Phase, Summary>();
  const per = boots.map(phasesOf);
  for (const { key } of PHASES) {
    const s = summarize(per.flatMap((p) => (p.has(key) ? [p.get(key)!] : [])));
    if (s) out.set(key, s);
  }
  return out;
}

/** The two boot styles of the built-in guest image. */
export type BootStyle = "direct" | "disk";

/** A target: the bound in ms and how the table shows it. */
export interface Target {
  ms: number;
  text: string;
}

/** The targets per phase for a boot style under an accelerator. */
export function targetsFor(style: BootStyle, accel: "kvm" | "tcg"): Map<Phase, Target> {
  const total = accel === "kvm" ? 2000 : style === "direct" ? 5000 : 10000;
  return new Map<Phase, Target>([
    ["control", { ms: 200, text: "< 200 ms" }],
    ["total", { ms: total, text: `< ${total / 1000} s (${accel.toUpperCase()})` }],
  ]);
}

/** Milliseconds as "123 ms" or "1.23 s". */
export function fmtMs(ms: number): string {
  return Math.abs(ms) >= 999.5 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/** The table rows of one boot style: phase, p50, min, max, target, whether the p50 meets it. */
export function styleRows(summaries: Map<Phase, Summary>, targets: Map<Phase, Target>): string[][] {
  const rows: string[][] = [];
  for (const { key, label } of PHASES) {
    const s = summaries.get(key);
    const t = targets.get(key);
    if (!s) {
      rows.push([`  ${label}`, "n/a", "", "", t?.text ?? "", ""]);
      continue;
    }
    rows.push([
      `  ${label}`,
      fmtMs(s.p50),
      fmtMs(s.min),
      fmtMs(s.max),
      t?.text ?? "",
      t ? (s.p50 < t.ms ? "yes" : "NO") : "",
    ]);
  }
  return rows;
}

// Volume I/O inside a guest: sequential and 4 KiB random read/write with dd on given block devices (one per
// transport: iSCSI, NBD) and the same on a host file, timed by the guest's /proc/uptime (no SSH latency in the
// figures). Under TCG the guest is CPU-bound, so the figures are raw numbers to compare side by side with the host.
// Library: measureVolumeIo(run, targets). CLI: node dist/bench/volume-io.js --ssh-port P --key K
// --dev iscsi=vdb --dev nbd=vdc [--host-file /path/on/a/volume/dir] [--mib 64] [--ops 100]
import { execFileSync, spawn } from "node:child_process";
import { rmSync } from "node:fs";

/** Figures of one target. */
export interface VolumeIoFigures {
  label: string;
  seqWriteMiBs: number;
  seqReadMiBs: number;
  randWriteIops: number;
  randReadIops: number;
}

/** How big the runs are. */
export interface VolumeIoOptions {
  /** MiB written then read sequentially (1 MiB blocks, direct I/O). Default 64. */
  mib?: number;
  /** 4 KiB random operations of each kind, one dd each (a guest's figure includes a process start). Default 100. */
  ops?: number;
}

/** A shell script (busybox sh) timing four dd passes on `path`; prints "seqw seqr randw randr" in seconds. */
export function ioScript(path: string, o: VolumeIoOptions = {}): string {
  const mib = o.mib ?? 64;
  const ops = o.ops ?? 100;
  const span = mib * 256; // 4 KiB blocks in the region the random passes hit
  return `set -e
now() { cut -d' ' -f1 /proc/uptime; }
P='${path}'
t0=$(now); dd if=/dev/zero of="$P" bs=1M count=${mib} oflag=direct conv=fsync,notrunc 2>/dev/null
t1=$(now); dd if="$P" of=/dev/null bs=1M count=${mib} iflag=direct 2>/dev/null
t2=$(now); i=0; while [ $i -lt ${ops} ]; do dd if=/dev/zero of="$P" bs=4k count=1 seek=$(( (i * 7919) % ${span} )) oflag=direct conv=notrunc 2>/dev/null; i=$((i+1)); done; sync
t3=$(now); i=0; while [ $i -lt ${ops} ]; do dd if="$P" of=/dev/null bs=4k count=1 skip=$(( (i * 7919) % ${span} )) iflag=direct 2>/dev/null; i=$((i+1)); done
t4=$(now)
echo "$t0 $t1 $t2 $t3 $t4"`;
}

/** Figures from the script's five timestamps. */
export function figures(label: string, out: string, o: VolumeIoOptions = {}): VolumeIoFigures {
  const t = out.trim().split(/\s+/).slice(-5).map(Number);
  if (t.length !== 5 || t.some((x) => !Number.isFinite(x)))
    throw new Error(`unexpected dd timing output: ${out}`);
  const d = (i: number) => Math.max(t[i + 1]! - t[i]!, 0.01);
  const mib = o.mib ?? 64;
  const ops = o.ops ?? 100;
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    label,
    seqWriteMiBs: r(mib / d(0)),
    seqReadMiBs: r(mib / d(1)),
    randWriteIops: r(ops / d(2)),
    randReadIops: r(ops / d(3)),
  };
}

/** Measure each target: `run` runs a script in the guest (e.g. over SSH), `host` optionally a file on the host. */
export async function measureVolumeIo(
  run: (script: string) => Promise<string>,
  targets: Array<{ label: string; dev: string }>,
  o: VolumeIoOptions & { hostFile?: string } = {},
): Promise<VolumeIoFigures[]> {
  const out: VolumeIoFigures[] = [];
  // The script runs as root in one sudo (sudo per dd would be timed too: it is slow under TCG).
  for (const t of targets) {
    const script = ioScript(`/dev/${t.dev}`, o);
    out.push(
      figures(
        t.label,
        await run(`cat > /tmp/volume-io.sh <<'EOF'\n${script}\nEOF\nsudo sh /tmp/volume-io.sh`),
        o,
      ),
    );
  }
  if (o.hostFile) {
    const res = execFileSync("sh", ["-c", ioScript(o.hostFile, o)], { encoding: "utf8", timeout: 600_000 });
    rmSync(o.hostFile, { force: true });
    out.push(figures("host file", res, o));
  }
  return out;
}

/** One line per target, for the bench's output. */
export const formatFigures = (f: VolumeIoFigures[]): string =>
  f
    .map(
      (x) =>
        `${x.label.padEnd(10)} seq write ${x.seqWriteMiBs} MiB/s, seq read ${x.seqReadMiBs} MiB/s, ` +
        `4k rand write ${x.randWriteIops} IOPS, 4k rand read ${x.randReadIops} IOPS`,
    )
    .join("\n");

async function main(argv: string[]): Promise<void> {
  const arg = (n: string) => argv[argv.indexOf(n) + 1];
  const devs = argv.flatMap((a, i) => (argv[i - 1] === "--dev" ? [a] : []));
  const port = arg("--ssh-port");
  const key = arg("--key");
  if (!port || !key || devs.length === 0)
    throw new Error("usage: --ssh-port P --key K --dev label=vdX ... [--host-file F]");
  const o = { mib: Number(arg("--mib") ?? 64), ops: Number(arg("--ops") ?? 100) };
  const run = (script: string) =>
    new Promise<string>((resolve, reject) => {
      const p = spawn("ssh", [
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-i",
        key,
        "-p",
        port,
        "cirros@127.0.0.1",
        "sh -s",
      ]);
      let s = "";
      p.stdout.on("data", (d: Buffer) => (s += d.toString()));
      p.on("close", (c) => (c === 0 ? resolve(s) : reject(new Error(`ssh exit ${c}`))));
      p.stdin.end(script);
    });
  const targets = devs.map((d) => ({ label: d.split("=")[0]!, dev: d.split("=")[1]! }));
  const hostFile = argv.includes("--host-file") ? arg("--host-file") : undefined;
  process.stdout.write(
    `${formatFigures(await measureVolumeIo(run, targets, { ...o, ...(hostFile ? { hostFile } : {}) }))}\n`,
  );
}

if (process.argv[1]?.endsWith("volume-io.js"))
  main(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });

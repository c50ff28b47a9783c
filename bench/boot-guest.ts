// One guest boot of the boot benchmark (bench/boot.ts), watched from outside: every 10 ms it looks at the instance's
// files on the host (the qemu driver's layout: instance directory, serial log, instance.json, pidfile) and, once the
// guest has written to its console, reads the SSH banner on the host-forwarded port; after the banner it runs
// `ssh ... true` with the bench's key until one succeeds. The moments it saw are the boot's BootMarks.
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import type { DriverLayout } from "../src/compute/drivers/qemu/driver-layout.js";
import { TRACE_MARKS, type BootMarks, type TraceMark } from "./boot-phases.js";
import { cpuMs, now, startEpoch } from "./boot-procs.js";

const POLL_MS = 10;
const BANNER_EVERY_MS = 100;
const BANNER_TIMEOUT_MS = 2_000;
const SSH_TIMEOUT_MS = 30_000;
const STATUS_EVERY_MS = 2_000;
const SSH_RETRY_MS = 250;

/** What watching a boot needs. */
export interface WatchContext {
  layout: DriverLayout;
  /** The SSH private key and the guest's user. */
  key: string;
  user: string;
  /** Epoch ms of the machine's boot (for /proc starttime). */
  boot: number;
  timeoutMs: number;
  /** The server's fault when it went to ERROR (polled every 2 s), else null. */
  fault(): Promise<string | null>;
}

/** Read the SSH banner on 127.0.0.1:port; true when it starts with "SSH-". */
function bannerAt(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    let buf = "";
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), BANNER_TIMEOUT_MS);
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      if (buf.length >= 4) done(buf.startsWith("SSH-"));
    });
    s.on("error", () => done(false));
    s.on("close", () => done(false));
  });
}

/** Run `ssh ... CMD` against the forwarded port; its stdout, or null when it failed. */
function ssh(ctx: WatchContext, port: number, cmd: string): Promise<string | null> {
  // prettier-ignore
  const args = [
    "-i", ctx.key, "-p", String(port),
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
    `${ctx.user}@127.0.0.1`, cmd,
  ];
  return new Promise((resolve) =>
    execFile("ssh", args, { timeout: SSH_TIMEOUT_MS }, (err, out) => resolve(err ? null : out)),
  );
}

const birth = (path: string): number | undefined => {
  try {
    const st = statSync(path);
    return st.birthtimeMs > 0 ? st.birthtimeMs : now();
  } catch {
    return undefined;
  }
};

/** A boot being watched: `stage` says how far it got (for progress lines). */
export class BootWatch {
  stage = "scheduling";
  /** The guest's first console line (after the driver's own), known once SSH-ready. */
  firstLine = "";
  readonly marks: Partial<BootMarks>;
  private markerLen: number | undefined;
  private sshPort: number | undefined;
  private inflight = 0;
  private lastProbe = 0;
  private sshRunning = false;
  private qemuPid: number | undefined;
  private lastSsh = 0;

  constructor(
    private readonly ctx: WatchContext,
    readonly uuid: string,
    post: number,
    accepted: number,
  ) {
    this.marks = { post, accepted };
  }

  /** Watch until `ssh true` succeeds; throws on the server's fault or the timeout. */
  async run(): Promise<BootMarks> {
    const p = this.ctx.layout.paths(this.uuid);
    const end = now() + this.ctx.timeoutMs;
    let nextStatus = now() + STATUS_EVERY_MS;
    while (this.marks.ssh === undefined) {
      const t = now();
      if (t > end)
        throw new Error(`${this.uuid}: not SSH-ready within ${this.ctx.timeoutMs / 1000} s (${this.stage})`);
      if (t > nextStatus) {
        nextStatus = t + STATUS_EVERY_MS;
        const fault = await this.ctx.fault();
        if (fault !== null) throw new Error(`${this.uuid}: ERROR: ${fault}`);
      }
      this.look(p.dir, p.serialLog, p.pidfile);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await this.guestClock();
    const after = readOr(p.serialLog).slice(this.markerLen ?? 0);
    this.firstLine = (after.split(/\r?\n/).find((l) => l.trim() !== "") ?? "").trim().slice(0, 80);
    return this.marks as BootMarks;
  }

  private look(dir: string, serialLog: string, pidfile: string): void {
    const m = this.marks;
    if (m.spawn === undefined) {
      m.spawn = birth(dir);
      if (m.spawn === undefined) return;
      this.stage = "spawning";
    }
    if (m.launch === undefined) {
      m.launch = birth(serialLog);
      if (m.launch === undefined) return;
      this.stage = "QEMU launched";
    }
    if (m.firstByte === undefined) {
      const size = this.serialSize(serialLog);
      if (size === undefined || this.markerLen === undefined || size <= this.markerLen) return;
      m.firstByte = now();
      this.stage = "guest booting";
    }
    if (m.qemuForked === undefined) {
      const pid = Number.parseInt(readOr(pidfile), 10);
      if (pid > 0) m.qemuForked = startEpoch(pid, this.ctx.boot);
      if (pid > 0) this.qemuPid = pid;
    }
    this.sshPort ??= this.recordedSshPort();
    if (this.sshPort === undefined) return;
    if (m.banner === undefined) this.probe(this.sshPort);
    else if (!this.sshRunning && now() - this.lastSsh >= SSH_RETRY_MS) {
      this.sshRunning = true;
      this.lastSsh = now();
      void ssh(this.ctx, this.sshPort, "true").then((out) => {
        if (out !== null) {
          m.ssh = now();
          if (this.qemuPid !== undefined) m.qemuCpu = cpuMs(this.qemuPid);
        }
        this.sshRunning = false;
      });
    }
  }

  /**
   * Once SSH-ready: the guest kernel's start from its uptime, and from dmesg when it ran /init and the guest
   * image's own boot marks ("stratus.trace NAME"), all placed on this clock (not timed).
   */
  private async guestClock(): Promise<void> {
    const out = await ssh(
      this.ctx,
      this.sshPort!,
      "cat /proc/uptime; sudo dmesg | grep -E 'Run /init|stratus\\.trace '; true",
    );
    const t = now();
    const up = /^(\d+\.\d+)\s/.exec(out ?? "");
    if (!up) return;
    this.marks.kernel = t - Number(up[1]) * 1000;
    const init = /\[\s*(\d+\.\d+)\] Run \/init/.exec(out ?? "");
    if (init) this.marks.init = this.marks.kernel + Number(init[1]) * 1000;
    this.marks.trace = traceMarks(out ?? "", this.marks.kernel);
  }

  /** The serial log's size; learns the length of the driver's own first line ("[stratus] starting QEMU"). */
  private serialSize(path: string): number | undefined {
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return undefined;
    }
    if (this.markerLen === undefined && size > 0) {
      const head = readOr(path).slice(0, 200);
      const nl = head.indexOf("\n");
      if (!head.startsWith("[stratus]")) this.markerLen = 0;
      else if (nl >= 0) this.markerLen = Buffer.byteLength(head.slice(0, nl + 1));
    }
    return size;
  }

  private recordedSshPort(): number | undefined {
    try {
      const rec = JSON.parse(readFileSync(this.ctx.layout.paths(this.uuid).record, "utf8")) as {
        sshPort?: number;
      };
      return rec.sshPort;
    } catch {
      return undefined;
    }
  }

  /** Start a banner probe every 100 ms (a few may hang while the guest's network is not up yet). */
  private probe(port: number): void {
    const t = now();
    if (this.inflight >= 4 || t - this.lastProbe < BANNER_EVERY_MS) return;
    this.lastProbe = t;
    this.inflight++;
    void bannerAt(port).then((ok) => {
      this.inflight--;
      if (ok && this.marks.banner === undefined) {
        this.marks.banner = now();
        this.stage = "SSH banner seen";
      }
    });
  }
}

/** The guest's boot marks in dmesg output (`[ 1.234] stratus.trace NAME`), as epoch ms from its kernel's start. */
export function traceMarks(dmesg: string, kernel: number): Partial<Record<TraceMark, number>> {
  const out: Partial<Record<TraceMark, number>> = {};
  for (const m of dmesg.matchAll(/\[\s*(\d+\.\d+)\] stratus\.trace (\S+)/g)) {
    const name = TRACE_MARKS.find((k) => k === m[2]);
    if (name && out[name] === undefined) out[name] = kernel + Number(m[1]) * 1000;
  }
  return out;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

// The iSCSI transport through userspace tgt, as Cinder's tgt driver: one target per volume, IQN
// `iqn.2010-10.org.openstack:volume-<id>`, LUN 1 backed by the volume's raw file, CHAP credentials made per volume
// (an incoming account bound to the target), open to every initiator address (the credentials are the guard).
// QEMU's own initiator (libiscsi) logs in; no kernel initiator is involved.
//
// Lifecycle: this transport runs its own tgtd, separate from a system one: its management channel is
// `tgtd -C <controlPort>` (control socket /var/run/tgtd/socket.<controlPort>), its portal host:port, its pid file
// runDir/tgtd.pid. tgtd daemonizes, so it outlives the volume agent and guests keep their I/O. `restore` starts
// it when it is not answering and makes its targets exactly the given records (same tids and CHAP credentials;
// targets already right keep their sessions). `stop()` removes every target, stops it and removes its control
// socket (wipe).
// tgtd keeps sizes of LUNs from when they were added: `resize` grows the file and re-adds LUN 1 (same tid and
// SCSI id) so initiators read the new capacity; QEMU's iscsi driver re-reads it on block_resize.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { KeyedLock } from "../../shared/keyed-lock.js";
import { killDaemon, run, running, ToolError } from "./exec.js";
import type { ConnectionInfo, ExportRecord, VolumeTransport } from "./transports.js";
import type { BlockHolder, VolumeLocation } from "./types.js";

/** How long a started tgtd may take to answer its control socket. */
const TGTD_START_MS = 30_000;
/** How the tgt transport is set up. */
export interface TgtTransportOptions {
  /** Directory of tgtd's pid file (created; e.g. DATA_DIR/volume-tgt). */
  runDir: string;
  /** The portal's port (default 3260). */
  port?: number;
  /** The portal's address (default 127.0.0.1). */
  host?: string;
  /** tgtd's management port, 1..32767, naming its control socket (default: the portal port, less 32768 when
   *  above; 0 is a system tgtd's). */
  controlPort?: number;
  /** tgtd and tgtadm executables (default on PATH). */
  tgtd?: string;
  tgtadm?: string;
}

/** Cinder's target name prefix. */
export const IQN_PREFIX = "iqn.2010-10.org.openstack:volume-";
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const LUN = 1;

/** One target as `tgtadm --mode target --op show` describes it. */
export interface TgtTarget {
  tid: number;
  iqn: string;
  sessions: number;
  backingStore: string | null;
  /** LUN 1 is read-only. */
  readOnly: boolean;
  accounts: string[];
}

/** CHAP state kept in an export record. */
interface TgtState {
  tid: number;
  iqn: string;
  user: string;
  password: string;
}

/** Parse `tgtadm --mode target --op show`. */
export function parseTargets(out: string): TgtTarget[] {
  const targets: TgtTarget[] = [];
  let cur: TgtTarget | null = null;
  let section = "";
  let lun = -1;
  for (const line of out.split("\n")) {
    const t = /^Target (\d+): (\S+)$/.exec(line);
    if (t) {
      cur = { tid: Number(t[1]), iqn: t[2]!, sessions: 0, backingStore: null, readOnly: false, accounts: [] };
      lun = -1;
      targets.push(cur);
      continue;
    }
    if (!cur) continue;
    const s = line.trim();
    if (/^[A-Za-z_ ]+information:$/.test(s)) section = s;
    else if (/^I_T nexus: \d+$/.test(s)) cur.sessions++;
    else if (/^LUN: \d+$/.test(s)) lun = Number(s.slice(5));
    else if (lun === LUN && s === "Readonly: Yes") cur.readOnly = true;
    else if (lun === LUN && s.startsWith("Backing store path: ") && s !== "Backing store path: None")
      cur.backingStore = s.slice("Backing store path: ".length);
    else if (section === "Account information:" && s && !s.includes(":"))
      cur.accounts.push(s.replace(/ \(outgoing\)$/, ""));
  }
  return targets;
}

const token = (n: number) =>
  randomBytes(n)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, n)
    .padEnd(n, "x");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** iSCSI exports through its own tgtd (see the header). */
export class TgtTransport implements VolumeTransport, BlockHolder {
  readonly protocol = "iscsi" as const;
  private readonly lock = new KeyedLock();
  /** CHAP credentials of targets made or restored by this object. */
  private readonly creds = new Map<string, TgtState>();

  constructor(private readonly opts: TgtTransportOptions) {}

  private get port(): number {
    return this.opts.port ?? 3260;
  }

  private get host(): string {
    return this.opts.host ?? "127.0.0.1";
  }

  /** tgtd's management port. */
  get controlPort(): number {
    const c = this.opts.controlPort ?? (this.port > 32767 ? this.port - 32768 : this.port);
    if (!Number.isInteger(c) || c < 1 || c > 32767) throw new Error("tgtd's control port must be 1..32767");
    return c;
  }

  /** tgtd's control socket (tgtadm -C talks to it). */
  get controlSocket(): string {
    return `/var/run/tgtd/socket.${this.controlPort}`;
  }

  /** tgtd's pid file. */
  get pidFile(): string {
    return join(this.opts.runDir, "tgtd.pid");
  }

  /** The portal, host:port. */
  get portal(): string {
    return `${this.host}:${this.port}`;
  }

  /** tgtd's pid when it runs (its pid file, a live tgtd with our control port), else null. */
  pid(): number | null {
    try {
      const pid = Number(readFileSync(this.pidFile, "utf8").trim());
      if (!Number.isSafeInteger(pid) || pid <= 1) return null;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      return cmd.some((a) => a.endsWith("tgtd")) && cmd.includes(String(this.controlPort)) ? pid : null;
    } catch {
      return null;
    }
  }

  private adm(args: string[]): Promise<string> {
    return run(
      this.opts.tgtadm ?? "tgtadm",
      ["-C", String(this.controlPort), "--lld", "iscsi", ...args],
      30_000,
    );
  }

  private async up(): Promise<boolean> {
    if (this.pid() === null) return false;
    return this.adm(["--mode", "target", "--op", "show"]).then(
      () => true,
      () => false,
    );
  }

  /** Start tgtd when it is not answering. */
  private async ensure(): Promise<void> {
    if (await this.up()) return;
    await mkdir(this.opts.runDir, { recursive: true, mode: 0o700 });
    const stale = this.pid();
    if (stale !== null) process.kill(stale, "SIGKILL");
    const args = ["-C", String(this.controlPort), "--iscsi", `portal=${this.portal}`, "-p", this.pidFile];
    const p = spawn(this.opts.tgtd ?? "tgtd", args, { stdio: "ignore", detached: true });
    const code = await new Promise<number | null>((resolve, reject) => {
      p.once("error", reject);
      p.once("exit", (c) => resolve(c));
    });
    if (code !== 0) throw new Error(`tgtd failed to start (exit ${code})`);
    // Bounded by time, not tries: on a loaded machine each tgtadm probe itself can take a second.
    const deadline = Date.now() + TGTD_START_MS;
    while (Date.now() < deadline) {
      if (await this.up()) return;
      await sleep(50);
    }
    throw new Error(
      `tgtd on control port ${this.controlPort} did not answer within ${TGTD_START_MS / 1000} s`,
    );
  }

  /** The daemon's targets. */
  async targets(): Promise<TgtTarget[]> {
    return parseTargets(await this.adm(["--mode", "target", "--op", "show"]));
  }

  /** Remove every target and kill tgtd (guests lose their volumes). */
  async stop(): Promise<void> {
    if (await this.up()) for (const t of await this.targets()) await this.deleteTarget(t);
    const pid = this.pid();
    if (pid !== null) {
      // tgtd ignores SIGTERM: it quits on a system delete (once it has no targets).
      await run(this.opts.tgtadm ?? "tgtadm", [
        "-C",
        String(this.controlPort),
        "--op",
        "delete",
        "--mode",
        "system",
      ]).catch(() => undefined);
      // Its pid file goes before the process does: wait for the process itself (and its forked child).
      for (let i = 0; i < 100 && running(pid); i++) await sleep(50);
      if (running(pid)) killDaemon(pid);
      for (let i = 0; i < 100 && running(pid); i++) await sleep(20);
    }
    // tgtd leaves its control socket behind.
    for (const f of [this.controlSocket, `${this.controlSocket}.lock`]) await rm(f, { force: true });
  }

  private async deleteTarget(t: TgtTarget): Promise<void> {
    await this.adm(["--mode", "target", "--op", "delete", "--force", "--tid", String(t.tid)]);
    for (const user of t.accounts) await this.dropAccount(user);
  }

  private async dropAccount(user: string): Promise<void> {
    await this.adm(["--mode", "account", "--op", "delete", "--user", user]).catch((e: unknown) => {
      if (!(e instanceof ToolError)) throw e;
    });
  }

  /** (Re)set the target's CHAP account: sessions already logged in are not affected. */
  private async setAccount(t: TgtTarget, s: TgtState): Promise<void> {
    for (const u of t.accounts) await this.dropAccount(u);
    await this.dropAccount(s.user);
    await this.adm(["--mode", "account", "--op", "new", "--user", s.user, "--password", s.password]);
    await this.adm(["--mode", "account", "--op", "bind", "--tid", String(s.tid), "--user", s.user]);
  }

  private async addLun(tid: number, path: string, readOnly: boolean): Promise<void> {
    const lun = ["--tid", String(tid), "--lun", String(LUN)];
    await this.adm(["--mode", "logicalunit", "--op", "new", ...lun, "--backing-store", path]);
    if (readOnly)
      await this.adm(["--mode", "logicalunit", "--op", "update", ...lun, "--params", "readonly=1"]);
  }

  private async create(s: TgtState, location: VolumeLocation, readOnly: boolean): Promise<void> {
    await this.adm(["--mode", "target", "--op", "new", "--tid", String(s.tid), "--targetname", s.iqn]);
    try {
      await this.addLun(s.tid, location.path, readOnly);
      await this.setAccount(
        { tid: s.tid, iqn: s.iqn, sessions: 0, backingStore: null, readOnly, accounts: [] },
        s,
      );
      await this.adm([
        "--mode",
        "target",
        "--op",
        "bind",
        "--tid",
        String(s.tid),
        "--initiator-address",
        "ALL",
      ]);
    } catch (err) {
      await this.adm(["--mode", "target", "--op", "delete", "--force", "--tid", String(s.tid)]).catch(
        () => {},
      );
      throw err;
    }
  }

  async export(
    volumeId: string,
    location: VolumeLocation,
    opts: { readOnly: boolean },
  ): Promise<ExportRecord> {
    if (!ID.test(volumeId)) throw new Error("invalid volume id");
    if (location.format !== "raw") throw new Error("tgt exports raw volumes only (qcow2 goes over NBD)");
    return this.lock.run("tgt", async () => {
      await this.ensure();
      const iqn = IQN_PREFIX + volumeId;
      const all = await this.targets();
      const have = all.find((t) => t.iqn === iqn);
      let s = this.creds.get(volumeId);
      if (have) {
        // Idempotent: the existing target; unknown credentials (another agent's run) are set anew.
        if (!s || s.tid !== have.tid || !have.accounts.includes(s.user)) {
          s = { tid: have.tid, iqn, user: token(20), password: token(16) };
          await this.setAccount(have, s);
        }
      } else {
        const tid = Math.max(0, ...all.map((t) => t.tid)) + 1;
        s = { tid, iqn, user: token(20), password: token(16) };
        await this.create(s, location, opts.readOnly);
      }
      this.creds.set(volumeId, s);
      return { volumeId, location, readOnly: opts.readOnly, state: { ...s } };
    });
  }

  connectionInfo(rec: ExportRecord): ConnectionInfo {
    const s = stateOf(rec);
    return {
      driver_volume_type: "iscsi",
      data: {
        target_iqn: s.iqn,
        target_portal: this.portal,
        target_lun: LUN,
        target_discovered: false,
        auth_method: "CHAP",
        auth_username: s.user,
        auth_password: s.password,
        volume_id: rec.volumeId,
        access_mode: rec.readOnly ? "ro" : "rw",
        encrypted: false,
      },
    };
  }

  async unexport(volumeId: string): Promise<void> {
    await this.lock.run("tgt", async () => {
      if (!(await this.up())) return;
      const t = (await this.targets()).find((x) => x.iqn === IQN_PREFIX + volumeId);
      if (t) await this.deleteTarget(t);
      this.creds.delete(volumeId);
    });
  }

  async restore(records: ExportRecord[]): Promise<void> {
    await this.lock.run("tgt", async () => {
      await this.ensure();
      const want = new Map(records.map((r) => [IQN_PREFIX + r.volumeId, r]));
      let all = await this.targets();
      for (const t of all) {
        const r = want.get(t.iqn);
        if (!r || stateOf(r).tid !== t.tid) await this.deleteTarget(t);
      }
      all = await this.targets();
      for (const r of records) {
        const s = stateOf(r);
        const t = all.find((x) => x.iqn === s.iqn);
        if (t) await this.setAccount(t, s);
        else await this.create(s, r.location, r.readOnly);
        this.creds.set(r.volumeId, s);
      }
    });
  }

  async exported(): Promise<string[]> {
    if (!(await this.up())) return [];
    return (await this.targets())
      .filter((t) => t.iqn.startsWith(IQN_PREFIX))
      .map((t) => t.iqn.slice(IQN_PREFIX.length))
      .sort();
  }

  async holds(volumeId: string): Promise<boolean> {
    if (!(await this.up())) return false;
    return (await this.targets()).some((t) => t.iqn === IQN_PREFIX + volumeId);
  }

  async resize(volumeId: string, bytes: number, location: VolumeLocation): Promise<void> {
    await this.lock.run("tgt", async () => {
      const fh = await open(location.path, "r+");
      try {
        if ((await fh.stat()).size < bytes) await fh.truncate(bytes);
      } finally {
        await fh.close();
      }
      const t = (await this.targets()).find((x) => x.iqn === IQN_PREFIX + volumeId);
      if (!t) return;
      const lun = ["--tid", String(t.tid), "--lun", String(LUN)];
      await this.adm(["--mode", "logicalunit", "--op", "delete", ...lun]);
      await this.addLun(t.tid, location.path, t.readOnly);
    });
  }
}

/** The CHAP state of a tgt export record, checked. */
function stateOf(rec: ExportRecord): TgtState {
  const s = rec.state as Partial<TgtState>;
  if (
    typeof s.tid !== "number" ||
    typeof s.iqn !== "string" ||
    typeof s.user !== "string" ||
    typeof s.password !== "string"
  )
    throw new Error(`export record of ${rec.volumeId} lacks its tgt state`);
  return { tid: s.tid, iqn: s.iqn, user: s.user, password: s.password };
}

// The NBD transport: one qemu-storage-daemon per cloud (its QMP on a unix socket), serving NBD on a unix socket
// (or, when tcpPort is set, on TCP: QEMU 7.2 runs one NBD server per process), one export per volume: a block node
// (`blockdev-add` of the volume file in its own format) and `block-export-add` named by the volume id. The daemon
// is the only writer of a qcow2 volume (QEMU's image locks enforce it); guests' QEMUs only speak NBD to it.
//
// Lifecycle: the daemon daemonizes (`--daemonize`: its own session, stdio on /dev/null), so it outlives the volume
// agent; guests keep their I/O while the agent is down. Files in runDir: qmp.sock, nbd.sock, qsd.pid, qsd.log
// (the daemon's stderr before it is ready). `restore` starts it if it is not answering and makes the exports
// exactly the given set (exports already there, and their clients, are left alone). `stop()` quits it (wipe).
//
// Names: export id `vol-<volume id>` (query-block-exports tells back which volumes are exported), block node
// `n<30 hex of sha256(volume id)>` (node names are limited to 31 characters).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { KeyedLock } from "../../shared/keyed-lock.js";
import { killDaemon, running } from "./exec.js";
import { QmpClient, QmpCommandError } from "../../compute/drivers/qemu/qmp.js";
import type { ConnectionInfo, ExportRecord, VolumeTransport } from "./transports.js";
import type { BlockHolder, VolumeLocation } from "./types.js";

/** How the NBD transport is set up. */
export interface NbdTransportOptions {
  /** Directory of the daemon's sockets, pid file and log (created; e.g. DATA_DIR/volume-nbd; keep it short:
   *  unix socket paths are limited to 107 bytes). */
  runDir: string;
  /** Serve NBD on TCP at host:tcpPort instead of the unix socket. */
  tcpPort?: number;
  /** Address the TCP server binds and connection info names (default 127.0.0.1). */
  host?: string;
  /** The daemon executable (default qemu-storage-daemon on PATH). */
  binary?: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const EXPORT_PREFIX = "vol-";

/** The block node name of a volume's export. */
export const nbdNodeName = (volumeId: string): string =>
  `n${createHash("sha256").update(volumeId).digest("hex").slice(0, 30)}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** NBD exports through qemu-storage-daemon (see the header). */
export class NbdTransport implements VolumeTransport, BlockHolder {
  readonly protocol = "nbd" as const;
  private readonly lock = new KeyedLock();

  constructor(private readonly opts: NbdTransportOptions) {}

  /** The daemon's QMP socket. */
  get qmpSocket(): string {
    return join(this.opts.runDir, "qmp.sock");
  }

  /** The NBD unix socket (when no tcpPort). */
  get nbdSocket(): string {
    return join(this.opts.runDir, "nbd.sock");
  }

  /** The daemon's pid file. */
  get pidFile(): string {
    return join(this.opts.runDir, "qsd.pid");
  }

  /** The daemon's pid when it runs (its command line names this runDir), else null. */
  pid(): number | null {
    try {
      const pid = Number(readFileSync(this.pidFile, "utf8").trim());
      if (!Number.isSafeInteger(pid) || pid <= 1) return null;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      return cmd.includes(this.qmpSocket) ? pid : null;
    } catch {
      return null;
    }
  }

  /** A QMP session on a running daemon, or null when none answers. */
  private async connect(): Promise<QmpClient | null> {
    if (this.pid() === null) return null;
    return QmpClient.connect(this.qmpSocket, { timeoutMs: 5_000, commandTimeoutMs: 60_000 }).catch(
      () => null,
    );
  }

  /** Run fn on a QMP session, starting the daemon first when it is not running. */
  private async withDaemon<T>(fn: (q: QmpClient) => Promise<T>): Promise<T> {
    let q = await this.connect();
    if (!q) {
      await this.start();
      q = await QmpClient.connect(this.qmpSocket, { timeoutMs: 10_000, commandTimeoutMs: 60_000 });
    }
    try {
      return await fn(q);
    } finally {
      q.close();
    }
  }

  /** Start the daemon (a stale one whose QMP does not answer is killed first). */
  private async start(): Promise<void> {
    await mkdir(this.opts.runDir, { recursive: true, mode: 0o700 });
    const stale = this.pid();
    if (stale !== null) {
      process.kill(stale, "SIGKILL");
      for (let i = 0; i < 100 && this.pid() !== null; i++) await sleep(50);
    }
    await rm(this.qmpSocket, { force: true });
    await rm(this.nbdSocket, { force: true });
    const addr =
      this.opts.tcpPort !== undefined
        ? `addr.type=inet,addr.host=${this.opts.host ?? "127.0.0.1"},addr.port=${this.opts.tcpPort}`
        : `addr.type=unix,addr.path=${this.nbdSocket}`;
    const log = openSync(join(this.opts.runDir, "qsd.log"), "a", 0o600);
    try {
      const args = ["--chardev", `socket,path=${this.qmpSocket},server=on,wait=off,id=qmp`];
      args.push("--monitor", "chardev=qmp", "--nbd-server", addr, "--pidfile", this.pidFile, "--daemonize");
      const p = spawn(this.opts.binary ?? "qemu-storage-daemon", args, {
        stdio: ["ignore", log, log],
        detached: true,
      });
      // With --daemonize the launcher exits once the daemon is ready.
      const code = await new Promise<number | null>((resolve, reject) => {
        p.once("error", reject);
        p.once("exit", (c) => resolve(c));
      });
      if (code !== 0) {
        const tail = (await readFile(join(this.opts.runDir, "qsd.log"), "utf8").catch(() => "")).slice(-2000);
        throw new Error(`qemu-storage-daemon failed to start (exit ${code}): ${tail}`);
      }
    } finally {
      closeSync(log);
    }
  }

  /** Quit the daemon (every export goes, clients are cut off) and remove its sockets. */
  async stop(): Promise<void> {
    const q = await this.connect();
    const pid = this.pid();
    if (q) await q.execute("quit").catch(() => undefined);
    q?.close();
    // Wait for the process itself, not only its pid file.
    for (let i = 0; i < 100 && pid !== null && running(pid); i++) await sleep(50);
    if (pid !== null && running(pid)) killDaemon(pid);
    for (let i = 0; i < 100 && pid !== null && running(pid); i++) await sleep(20);
    await rm(this.qmpSocket, { force: true });
    await rm(this.nbdSocket, { force: true });
  }

  private async exportIds(q: QmpClient): Promise<string[]> {
    const ex = (await q.execute("query-block-exports")) as Array<{ id: string }>;
    return ex.map((e) => e.id);
  }

  private async nodes(q: QmpClient): Promise<Array<{ "node-name": string; ro: boolean }>> {
    return (await q.execute("query-named-block-nodes", { flat: true })) as Array<{
      "node-name": string;
      ro: boolean;
    }>;
  }

  async export(
    volumeId: string,
    location: VolumeLocation,
    opts: { readOnly: boolean },
  ): Promise<ExportRecord> {
    if (!ID.test(volumeId)) throw new Error("invalid volume id");
    return this.lock.run("qsd", () => this.withDaemon((q) => this.add(q, volumeId, location, opts.readOnly)));
  }

  private async add(
    q: QmpClient,
    volumeId: string,
    location: VolumeLocation,
    readOnly: boolean,
  ): Promise<ExportRecord> {
    const node = nbdNodeName(volumeId);
    const rec = { volumeId, location, readOnly, state: { nodeName: node } };
    if ((await this.exportIds(q)).includes(EXPORT_PREFIX + volumeId)) return rec;
    if ((await this.nodes(q)).some((n) => n["node-name"] === node))
      await q.execute("blockdev-del", { "node-name": node });
    await q.execute("blockdev-add", {
      driver: location.format,
      "node-name": node,
      "read-only": readOnly,
      discard: "unmap",
      file: { driver: "file", filename: location.path },
    });
    try {
      await this.exportNode(q, volumeId, node, readOnly);
    } catch (err) {
      await q.execute("blockdev-del", { "node-name": node }).catch(() => undefined);
      throw err;
    }
    return rec;
  }

  private async exportNode(q: QmpClient, volumeId: string, node: string, readOnly: boolean): Promise<void> {
    await q.execute("block-export-add", {
      type: "nbd",
      id: EXPORT_PREFIX + volumeId,
      "node-name": node,
      name: volumeId,
      writable: !readOnly,
    });
  }

  /** Remove an export (cutting its clients off) and wait until QEMU has released it. */
  private async dropExport(q: QmpClient, volumeId: string): Promise<void> {
    const id = EXPORT_PREFIX + volumeId;
    if (!(await this.exportIds(q)).includes(id)) return;
    await q.execute("block-export-del", { id, mode: "hard" }).catch((e: unknown) => {
      if (!(e instanceof QmpCommandError)) throw e;
    });
    for (let i = 0; i < 400 && (await this.exportIds(q)).includes(id); i++) await sleep(25);
  }

  connectionInfo(rec: ExportRecord): ConnectionInfo {
    const where =
      this.opts.tcpPort !== undefined
        ? { host: this.opts.host ?? "127.0.0.1", port: this.opts.tcpPort }
        : { socket_path: this.nbdSocket };
    return {
      driver_volume_type: "nbd",
      data: {
        ...where,
        export_name: rec.volumeId,
        volume_id: rec.volumeId,
        access_mode: rec.readOnly ? "ro" : "rw",
        encrypted: false,
      },
    };
  }

  async unexport(volumeId: string): Promise<void> {
    await this.lock.run("qsd", async () => {
      const q = await this.connect();
      if (!q) return;
      try {
        await this.remove(q, volumeId);
      } finally {
        q.close();
      }
    });
  }

  private async remove(q: QmpClient, volumeId: string): Promise<void> {
    await this.dropExport(q, volumeId);
    const node = nbdNodeName(volumeId);
    for (let i = 0; (await this.nodes(q)).some((n) => n["node-name"] === node); i++) {
      try {
        await q.execute("blockdev-del", { "node-name": node });
      } catch (err) {
        if (i > 100) throw err;
        await sleep(50); // the export's last reference goes asynchronously
      }
    }
  }

  async restore(records: ExportRecord[]): Promise<void> {
    await this.lock.run("qsd", () =>
      this.withDaemon(async (q) => {
        const want = new Map(records.map((r) => [r.volumeId, r]));
        for (const id of await this.exportIds(q)) {
          const vid = id.slice(EXPORT_PREFIX.length);
          if (id.startsWith(EXPORT_PREFIX) && !want.has(vid)) await this.remove(q, vid);
        }
        for (const r of records) await this.add(q, r.volumeId, r.location, r.readOnly);
      }),
    );
  }

  async exported(): Promise<string[]> {
    const q = await this.connect();
    if (!q) return [];
    try {
      const ids = await this.exportIds(q);
      return ids
        .filter((i) => i.startsWith(EXPORT_PREFIX))
        .map((i) => i.slice(EXPORT_PREFIX.length))
        .sort();
    } finally {
      q.close();
    }
  }

  async holds(volumeId: string): Promise<boolean> {
    const q = await this.connect();
    if (!q) return false;
    try {
      return (await this.nodes(q)).some((n) => n["node-name"] === nbdNodeName(volumeId));
    } finally {
      q.close();
    }
  }

  /** Grow an exported volume. The NBD server forbids resizing an exported node (NBD has no size change
   *  notice), so the export is dropped, the node resized and the export added again: clients reconnect (QEMU's
   *  NBD client with reconnect-delay) and see the new size; the compute side then block_resizes its node. */
  async resize(volumeId: string, bytes: number): Promise<void> {
    await this.lock.run("qsd", () =>
      this.withDaemon(async (q) => {
        const node = nbdNodeName(volumeId);
        const n = (await this.nodes(q)).find((x) => x["node-name"] === node);
        if (!n) throw new Error(`volume ${volumeId} is not exported over NBD`);
        const had = (await this.exportIds(q)).includes(EXPORT_PREFIX + volumeId);
        await this.dropExport(q, volumeId);
        try {
          await q.execute("block_resize", { "node-name": node, size: bytes });
        } finally {
          if (had) await this.exportNode(q, volumeId, node, n.ro);
        }
      }),
    );
  }

  async snapshot(volumeId: string, name: string): Promise<void> {
    await this.lock.run("qsd", () =>
      this.withDaemon((q) =>
        q
          .execute("blockdev-snapshot-internal-sync", { device: nbdNodeName(volumeId), name })
          .then(() => undefined),
      ),
    );
  }

  async deleteSnapshot(volumeId: string, name: string): Promise<void> {
    await this.lock.run("qsd", () =>
      this.withDaemon((q) =>
        q
          .execute("blockdev-snapshot-delete-internal-sync", { device: nbdNodeName(volumeId), name })
          .then(() => undefined)
          .catch((e: unknown) => {
            if (!(e instanceof QmpCommandError && /not found|can't find/i.test(e.message))) throw e;
          }),
      ),
    );
  }
}

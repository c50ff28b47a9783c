// Helpers of the volume transport tests: when they skip, free ports, and a long-lived qemu-io client (one
// NBD or iSCSI session kept open across daemon restarts and transport objects).
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { until } from "../../helpers/wait.js";
import { freePort } from "../../../bench/guest-ssh.js";

export { freePort };

/** Whether a command is on PATH (or in an sbin directory). */
export const has = (cmd: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/** QEMU's iSCSI block driver module (qemu-block-extra). */
const ISCSI_MODULE = "/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so";

/** Why the NBD tests skip here, or false (under CI nothing is skipped: missing tools fail). */
export const SKIP_NBD: string | false =
  process.env.CI === "true"
    ? false
    : !has("qemu-storage-daemon") || !has("qemu-io")
      ? "qemu-storage-daemon/qemu-io are not installed (apt-get install qemu-system-common qemu-utils)"
      : false;

/** Why the tgt tests skip here, or false. */
export const SKIP_TGT: string | false =
  process.env.CI === "true"
    ? false
    : process.getuid?.() !== 0
      ? "tgtd needs root"
      : !has("tgtd") || !has("tgtadm")
        ? "tgt is not installed (apt-get install tgt)"
        : !existsSync(ISCSI_MODULE) || !has("qemu-io")
          ? "QEMU's iSCSI initiator is not installed (apt-get install qemu-block-extra)"
          : false;

/** qemu-io image options for an NBD export on a unix socket. */
export const nbdImage = (socket: string, exportName: string): string =>
  `driver=raw,file.driver=nbd,file.server.type=unix,file.server.path=${socket},file.export=${exportName}`;

/** qemu-io image options for an iSCSI LUN with CHAP. */
export const iscsiImage = (portal: string, iqn: string, user?: string, password?: string): string =>
  `driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=${portal},file.target=${iqn},file.lun=1` +
  (user ? `,file.user=${user},file.password=${password}` : "");

/** Run qemu-io commands on an image (one session); resolves with its output, rejects on failure. */
export function qemuIo(image: string, cmds: string[]): string {
  return execFileSync("qemu-io", ["--image-opts", image, ...cmds.flatMap((c) => ["-c", c])], {
    encoding: "utf8",
    timeout: 120_000,
  });
}

/** The virtual size qemu-img reports for an image. */
export function virtualSize(image: string): number {
  const out = execFileSync("qemu-img", ["info", "--output=json", "--image-opts", image], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return (JSON.parse(out) as { "virtual-size": number })["virtual-size"];
}

/** A qemu-io process kept open: one client session, fed commands over stdin. */
export class IoSession {
  private out = "";
  private readonly p: ChildProcessWithoutNullStreams;

  constructor(image: string) {
    this.p = spawn("qemu-io", ["--image-opts", image]);
    this.p.stdout.on("data", (d: Buffer) => (this.out += d.toString()));
    this.p.stderr.on("data", (d: Buffer) => (this.out += d.toString()));
  }

  /** Run one command; resolves with its output once the next prompt appears. */
  async cmd(c: string, timeoutMs = 60_000): Promise<string> {
    const start = this.out.length;
    this.p.stdin.write(`${c}\n`);
    await until(
      `qemu-io to answer ${c}`,
      () => this.p.exitCode !== null || /\nqemu-io> ?$/.test(this.out.slice(start)),
      timeoutMs,
    );
    return this.out.slice(start);
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.p.exitCode === null && this.p.signalCode === null;
  }

  /** End the session. */
  close(): void {
    if (this.alive) this.p.kill("SIGKILL");
  }
}

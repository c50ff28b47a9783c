// Real virtual machines through the real `openstack` CLI: `stratus up --compute-driver qemu` builds (once, cached)
// and registers the built-in guest image, and this test boots it under TCG and drives a server through its life:
// metadata and user data on the console, SSH over the test-only forwarded port (hostname, vCPUs, root disk size,
// config drive), stop/start, soft and hard reboot, pause, suspend, snapshot and a boot from it (reading the
// metadata service, no config drive), shelve/unshelve, resize, rebuild
// (to disk boot), rescue and unrescue, all with images in the object store, kill -9 of the cloud with the guest kept running and re-adopted, a QEMU killed behind its
// back shown SHUTOFF, and delete with nothing left. Two guests in all (the server and the one booted from its
// snapshot), to keep CI time small.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GUEST_IMAGE_NAMES } from "../../src/cloud/guest-image.js";
import { qemuAvailable } from "../../src/compute/drivers/qemu/process.js";
import {
  exec,
  killStratus,
  OPENSTACK,
  pyEnv,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";
import { until } from "../helpers/wait.js";

const SKIP = qemuAvailable() || process.env.CI ? false : "qemu-system-x86_64 is not installed";
// Images in the object store (Glance's swift store): the guest image's upload, the snapshot, and every boot's
// download go through object storage.
const CONFIG = [
  "image:",
  "  store: swift",
  "compute:",
  "  syncPowerStateInterval: 2",
  "  qemu:",
  "    hostForwardSsh: true",
  "    softRebootTimeout: 60",
  "",
].join("\n");

/** Live QEMU pids of an instance. */
function qemuPids(uuid: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const cmd = readFileSync(`/proc/${n}/cmdline`, "utf8");
      const st = readFileSync(`/proc/${n}/stat`, "utf8").split(") ")[1]?.charAt(0);
      if (cmd.includes("qemu-system") && cmd.includes(`guest=${uuid}`) && st !== "Z") out.push(+n);
    } catch {
      // gone
    }
  }
  return out;
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s (${String(last)})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe("qemu driver end to end: the built-in guest through the openstack CLI", { skip: SKIP }, () => {
  let s: StratusProcess | undefined;
  let work = "";
  let key = "";
  let host = "";
  let vm1 = "";
  const extraUuids: string[] = [];

  // The cloud's recent warnings and errors, to explain a failed step.
  const cloudProblems = () =>
    (s?.output() ?? "")
      .split("\n")
      .filter((l) => /"level":(40|50|60)|error|fail/i.test(l))
      .slice(-25)
      .join("\n");
  const osc = async (args: string[]) => {
    const r = await exec(
      OPENSTACK,
      args,
      pyEnv({ OS_CLIENT_CONFIG_FILE: s!.cloudsYaml, OS_CLOUD: "stratus-admin" }),
    );
    assert.equal(r.code, 0, `openstack ${args.join(" ")}: ${r.stderr}\n${cloudProblems()}`);
    return r.stdout;
  };
  const show = async (name: string) =>
    JSON.parse(await osc(["server", "show", name, "-f", "json"])) as Record<string, any>;
  const waitStatus = (name: string, status: string) =>
    poll(
      `${name} ${status}`,
      async () => {
        const v = await show(name);
        return v.status === status && !v["OS-EXT-STS:task_state"] ? v : undefined;
      },
      180_000,
    );
  const consoleHas = (name: string, re: RegExp) =>
    poll(
      `console of ${name} ${re}`,
      async () => (re.test(await osc(["console", "log", "show", name])) ? true : undefined),
      180_000,
    );
  const sshPort = (uuid: string) =>
    (
      JSON.parse(readFileSync(join(s!.dir, "qemu", host, "instances", uuid, "instance.json"), "utf8")) as {
        sshPort: number;
      }
    ).sshPort;
  const ssh = (uuid: string, cmd: string) =>
    poll(
      `ssh ${cmd}`,
      () =>
        new Promise<string | undefined>((res) =>
          execFile(
            "ssh",
            [
              "-i",
              key,
              "-o",
              "StrictHostKeyChecking=no",
              "-o",
              "UserKnownHostsFile=/dev/null",
              "-o",
              "LogLevel=ERROR",
              "-o",
              "ConnectTimeout=10",
              "-o",
              "BatchMode=yes",
              "-p",
              String(sshPort(uuid)),
              "cirros@127.0.0.1",
              cmd,
            ],
            { timeout: 30_000 },
            (err, stdout) => res(err ? undefined : stdout.trim()),
          ),
        ),
      180_000,
    );

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "stq-e2e-"));
    key = join(work, "key");
    await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key], process.env);
    await chmod(key, 0o600);
    const up = await startStratus("stratus-qemu-", {
      args: ["--compute-driver", "qemu"],
      configYaml: CONFIG,
      readyTimeoutMs: 30 * 60_000, // the first run builds the guest image
    });
    s = up;
    // clouds.yaml (what startStratus waits for) is written just before the hosts are printed.
    await until("stratus up names the qemu driver", () => /qemu driver, (TCG|KVM)/.test(up.output()), 60_000);
  });

  after(async () => {
    if (s) await terminateStratus(s).catch(() => {});
    for (const u of [vm1, ...extraUuids]) for (const pid of qemuPids(u)) process.kill(pid, "SIGKILL");
    await killStratus(s);
    await rm(work, { recursive: true, force: true });
  });

  test("server create --wait of the guest image: metadata, user data, login prompt, SSH", async () => {
    const images = JSON.parse(await osc(["image", "list", "-f", "json"])) as Array<{ Name: string }>;
    const direct = images.find((i) => i.Name === GUEST_IMAGE_NAMES.direct);
    assert.ok(direct, `no guest image registered: ${JSON.stringify(images)}`);
    await osc(["keypair", "create", "--public-key", `${key}.pub`, "k1"]);
    await osc(["flavor", "create", "--vcpus", "2", "--ram", "256", "--disk", "1", "q1"]);
    await osc(["flavor", "create", "--vcpus", "2", "--ram", "320", "--disk", "2", "q2"]);
    const ud = join(work, "ud.sh");
    await writeFile(ud, "#!/bin/sh\necho USERDATA-$((6*7))-RAN\n");
    const created = JSON.parse(
      await osc([
        "server",
        "create",
        "--image",
        direct.Name,
        "--flavor",
        "q1",
        "--key-name",
        "k1",
        "--config-drive",
        "true",
        "--user-data",
        ud,
        "--wait",
        "vm1",
        "-f",
        "json",
      ]),
    ) as Record<string, any>;
    assert.equal(created.status, "ACTIVE");
    vm1 = created.id;
    host = (await show("vm1"))["OS-EXT-SRV-ATTR:host"];
    await consoleHas("vm1", /vm1 login:/);
    const log = await osc(["console", "log", "show", "vm1"]);
    assert.match(log, /datasource: config drive/);
    assert.match(log, new RegExp(`instance-id: ${vm1}`));
    assert.match(log, /USERDATA-42-RAN/);
    assert.equal(await ssh(vm1, "hostname"), "vm1");
    assert.equal(await ssh(vm1, "nproc"), "2");
    assert.equal(await ssh(vm1, "lsblk -b -d -n -o SIZE /dev/vda"), String(1024 ** 3));
    const cd = await ssh(
      vm1,
      "sudo mount -o ro /dev/sr0 /mnt && ls /mnt/openstack/latest && sudo umount /mnt",
    );
    assert.match(cd, /meta_data\.json/);
    const hv = JSON.parse(await osc(["hypervisor", "show", host, "-f", "json"])) as Record<string, any>;
    assert.equal(hv.hypervisor_type, "QEMU");
  });

  test("stop/start, soft and hard reboot, pause/unpause, suspend/resume", async () => {
    await osc(["server", "stop", "vm1"]);
    await waitStatus("vm1", "SHUTOFF");
    assert.deepEqual(qemuPids(vm1), []);
    await osc(["server", "start", "vm1"]);
    await waitStatus("vm1", "ACTIVE");
    // ACTIVE means QEMU runs, not that the guest is up: a guest still booting ignores the ACPI request, the soft
    // reboot then falls back to a reset mid-boot, and its journal-less root may not mount again (a known guest
    // image bug, in the notes). Reboot a guest that is up, as a user would.
    assert.equal(await ssh(vm1, "hostname"), "vm1");
    await osc(["server", "reboot", "--soft", "--wait", "vm1"]);
    assert.equal(await ssh(vm1, "hostname"), "vm1");
    await osc(["server", "pause", "vm1"]);
    await waitStatus("vm1", "PAUSED");
    await osc(["server", "unpause", "vm1"]);
    await waitStatus("vm1", "ACTIVE");
    const before = Number((await ssh(vm1, "cut -d. -f1 /proc/uptime")) ?? 0);
    await osc(["server", "suspend", "vm1"]);
    await waitStatus("vm1", "SUSPENDED");
    assert.deepEqual(qemuPids(vm1), [], "a suspended guest has no QEMU");
    await osc(["server", "resume", "vm1"]);
    await waitStatus("vm1", "ACTIVE");
    // Resumed, not rebooted: the guest's uptime continues.
    assert.ok(Number(await ssh(vm1, "cut -d. -f1 /proc/uptime")) >= before);
    // A hard reboot is a reset: the guest's unsynced writes are lost (its root may then need a repair), so only
    // the server's state is checked here.
    await ssh(vm1, "sync");
    const [old] = qemuPids(vm1);
    await osc(["server", "reboot", "--hard", "--wait", "vm1"]);
    await waitStatus("vm1", "ACTIVE");
    assert.notDeepEqual(qemuPids(vm1), [old]);
  });

  test("snapshot, then boot a second server from it", async () => {
    await osc(["server", "image", "create", "--wait", "--name", "snap1", "vm1"]);
    // Every image (the registered guest images and this snapshot) went to the object store, none to files.
    const files = existsSync(join(s!.dir, "images")) ? readdirSync(join(s!.dir, "images")) : [];
    assert.deepEqual(files, [], "the file image store holds nothing");
    assert.ok(readdirSync(join(s!.dir, "objects"), { recursive: true }).length > 0, "object data exists");
    const vm2 = JSON.parse(
      await osc([
        "server",
        "create",
        "--image",
        "snap1",
        "--flavor",
        "q1",
        "--key-name",
        "k1",
        "--wait",
        "vm2",
        "-f",
        "json",
      ]),
    ) as Record<string, any>;
    extraUuids.push(vm2.id);
    assert.equal(vm2.status, "ACTIVE");
    await consoleHas("vm2", /vm2 login:/);
    // No config drive this time: the guest reads the metadata service (through its signed per-instance proxy).
    const log = await osc(["console", "log", "show", "vm2"]);
    assert.match(log, /datasource: metadata service .*\(openstack\)/);
    assert.match(log, new RegExp(`instance-id: ${vm2.id}`));
    assert.equal(await ssh(vm2.id, "hostname"), "vm2");
    assert.equal(await ssh(vm2.id, "ls /dev/sr0 2>/dev/null || echo none"), "none");
  });

  test("shelve (offloaded: no QEMU, no files) and unshelve through the CLI; the guest comes back", async () => {
    const vm2 = extraUuids[0]!;
    await ssh(vm2, "echo kept | sudo tee /var/shelve-mark >/dev/null && sync");
    await osc(["server", "shelve", "vm2"]);
    await waitStatus("vm2", "SHELVED_OFFLOADED");
    assert.deepEqual(qemuPids(vm2), []);
    assert.equal(existsSync(join(s!.dir, "qemu", host, "instances", vm2)), false);
    await osc(["server", "unshelve", "vm2"]);
    await waitStatus("vm2", "ACTIVE");
    assert.equal(qemuPids(vm2).length, 1);
    assert.equal(
      await ssh(vm2, "cat /var/shelve-mark"),
      "kept",
      "the disk came back from the shelved snapshot",
    );
    await osc(["server", "delete", "--wait", "vm2"]);
    assert.deepEqual(qemuPids(vm2), []);
  });

  test("rebuild to the disk-boot image; resize up and confirm", async () => {
    const images = JSON.parse(await osc(["image", "list", "-f", "json"])) as Array<{ Name: string }>;
    const disk = images.find((i) => i.Name === GUEST_IMAGE_NAMES.disk)!;
    await osc(["server", "rebuild", "--image", disk.Name, "--wait", "vm1"]);
    await waitStatus("vm1", "ACTIVE");
    await consoleHas("vm1", /vm1 login:/);
    assert.equal(await ssh(vm1, "hostname"), "vm1");
    // The resize stops the guest (ACPI, then quit after a timeout): sync first, as before the hard reset below.
    await ssh(vm1, "sync");
    await osc(["server", "resize", "--flavor", "q2", "--wait", "vm1"]);
    await waitStatus("vm1", "VERIFY_RESIZE");
    await osc(["server", "resize", "confirm", "vm1"]);
    await waitStatus("vm1", "ACTIVE");
    assert.equal(await ssh(vm1, "lsblk -b -d -n -o SIZE /dev/vda"), String(2 * 1024 ** 3));
  });

  test("rescue boots the rescue image with the server's disk second; unrescue boots the server's own disk", async () => {
    await ssh(vm1, "echo mine | sudo tee /var/rescue-mark >/dev/null && sync");
    await osc(["server", "rescue", "vm1"]);
    await waitStatus("vm1", "RESCUE");
    // The rescue guest runs from its own disk; the server's (2 GiB since the resize) is attached second.
    assert.equal(await ssh(vm1, "test -e /var/rescue-mark && echo found || echo absent"), "absent");
    assert.equal(await ssh(vm1, "lsblk -b -d -n -o SIZE /dev/vdb"), String(2 * 1024 ** 3));
    await osc(["server", "unrescue", "vm1"]);
    await waitStatus("vm1", "ACTIVE");
    assert.equal(await ssh(vm1, "cat /var/rescue-mark"), "mine");
    assert.equal(await ssh(vm1, "lsblk -b -d -n -o SIZE /dev/vda"), String(2 * 1024 ** 3));
  });

  test("kill -9 of the cloud leaves the guest running; the restarted cloud adopts it; a killed QEMU is SHUTOFF", async () => {
    const [pid] = qemuPids(vm1);
    assert.ok(pid);
    s!.child.kill("SIGKILL");
    await s!.exited;
    assert.deepEqual(qemuPids(vm1), [pid]);
    s = await startStratus("stratus-qemu-", {
      args: ["--compute-driver", "qemu"],
      dir: s!.dir,
      readyTimeoutMs: 300_000,
    });
    await waitStatus("vm1", "ACTIVE");
    assert.deepEqual(qemuPids(vm1), [pid], "same QEMU after the restart");
    assert.equal(await ssh(vm1, "hostname"), "vm1");
    process.kill(pid, "SIGKILL");
    await waitStatus("vm1", "SHUTOFF");
    await osc(["server", "start", "vm1"]);
    await waitStatus("vm1", "ACTIVE");
    assert.equal(qemuPids(vm1).length, 1);
  });

  test("delete leaves no QEMU and no files", async () => {
    await osc(["server", "delete", "--wait", "vm1"]);
    assert.deepEqual(qemuPids(vm1), []);
    assert.equal(existsSync(join(s!.dir, "qemu", host, "instances", vm1)), false);
  });
});

// Real guests on compute agents that run as their own processes: `stratus up --compute-hosts 0 --compute-driver
// qemu` (the control plane, which registers the built-in guest image) and two `stratus agent compute --compute-driver
// qemu` processes on this machine, over PostgreSQL and RabbitMQ, driven with the real openstack CLI. Agent A takes
// the control plane's metadata service (--metadata-url and the shared secret), agent B serves metadata itself; both
// download images through the service user's catalog (--auth-url, STRATUS_SERVICE_PASSWORD). A guest boots on A
// (its key comes from the metadata service, so SSH proves it), a counter runs on its serial port, and it is
// live-migrated to B: the host changes, the guest is not rebooted (uptime and the counter go on), SSH and the VNC
// and serial consoles work, and A keeps no QEMU, files or sockets for it. A second guest boots on B; B is killed
// with SIGKILL and started again: both QEMUs are the same processes, and both guests stay manageable (crash dump;
// stop/start of the migrated one once host A and its files are gone; delete), with nothing left behind. Two guests
// in all, TCG, to keep CI time small.
import { GUEST_IMAGE_NAMES } from "../../src/cloud/guest-image.js";
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { WebSocket } from "ws";
import { DriverLayout } from "../../src/compute/drivers/qemu/driver-layout.js";
import { qemuAvailable } from "../../src/compute/drivers/qemu/process.js";
import { processCloudEnv, startUp, untilOk } from "../helpers/multiprocess.js";
import { CI } from "../helpers/rabbit.js";
import { exec, OPENSTACK, Proc, pyEnv } from "../helpers/stratus-process.js";

const SKIP = qemuAvailable() || CI ? false : "qemu-system-x86_64 is not installed";
/** Under TCG on a loaded CI machine: a boot to SSH, and the first run building the guest image. */
const BOOT_MS = 240_000;
const BUILD_MS = 30 * 60_000;
const TAG = randomBytes(3).toString("hex");
/** Host names no other test on this machine uses (qemu hosts register machine-wide for live migration). */
const A = `qa${TAG}-a`;
const B = `qa${TAG}-b`;
type Host = typeof A | typeof B;

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

/** The command line of a process. */
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");

/** A free loopback port (bound, then released for the control plane's metadata service). */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** The counter values a console log shows (TICK-n lines written by the guest). */
const ticks = (log: string) => [...log.matchAll(/TICK-(\d+)/g)].map((m) => Number(m[1]));

describe(
  "qemu guests on separate compute agent processes: live migration, kill -9 of an agent",
  { skip: SKIP },
  () => {
    let skip: string | null = "before() did not finish";
    let root = "";
    let cleanup = async () => {};
    let cp: Proc | undefined;
    const agents = new Map<Host, Proc>();
    let agentArgs: (host: Host) => string[] = () => [];
    let adminPassword = "";
    let cloudsYaml = "";
    let base = "";
    let key = "";
    let imageName = "";
    const uuids = new Map<string, string>(); // server name → id

    const dirOf = (host: Host) => join(root, host);
    const stateDir = (host: Host) => join(dirOf(host), "qemu", host);
    const layout = (host: Host) => new DriverLayout(stateDir(host));
    const context = () =>
      [cp, ...agents.values()].map((p) => (p ? `--- ${p.name}:\n${p.output.slice(-3000)}` : "")).join("\n");
    const guard = (t: TestContext): boolean => {
      if (skip) t.skip(skip);
      return !!skip;
    };

    const osc = async (args: string[]): Promise<string> => {
      const r = await exec(
        OPENSTACK,
        args,
        pyEnv({ OS_CLIENT_CONFIG_FILE: cloudsYaml, OS_CLOUD: "stratus-admin" }),
      );
      assert.equal(r.code, 0, `openstack ${args.join(" ")}: ${r.stderr}\n${context()}`);
      return r.stdout;
    };
    const show = async (name: string) =>
      JSON.parse(await osc(["server", "show", name, "-f", "json"])) as Record<string, any>;
    const settled = (name: string, status: string, host?: Host) =>
      untilOk(
        `${name} ${status}${host ? ` on ${host}` : ""}`,
        async () => {
          const v = await show(name);
          if (v.status === "ERROR") throw new Error(`${name} is in ERROR: ${JSON.stringify(v.fault)}`);
          return v.status === status &&
            !v["OS-EXT-STS:task_state"] &&
            (!host || v["OS-EXT-SRV-ATTR:host"] === host)
            ? v
            : null;
        },
        BOOT_MS,
        1000,
      );
    const consoleLog = (name: string) => osc(["console", "log", "show", name]);
    const consoleHas = (name: string, re: RegExp) =>
      untilOk(`console of ${name} showing ${re}`, async () => re.test(await consoleLog(name)), BOOT_MS, 1000);
    const sshPort = (host: Host, uuid: string) =>
      (JSON.parse(readFileSync(layout(host).paths(uuid).record, "utf8")) as { sshPort: number }).sshPort;
    const ssh = (host: Host, name: string, cmd: string) =>
      untilOk(
        `ssh ${name} on ${host}: ${cmd}`,
        () =>
          new Promise<string | undefined>((res) =>
            execFile(
              "ssh",
              // prettier-ignore
              [
              "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
              "-o", "ConnectTimeout=10", "-o", "BatchMode=yes", "-p", String(sshPort(host, uuids.get(name)!)),
              "cirros@127.0.0.1", cmd,
            ],
              { timeout: 30_000 },
              (err, stdout) => res(err ? undefined : stdout.trim() || " "),
            ),
          ),
        BOOT_MS,
        1000,
      );
    const uptime = async (host: Host, name: string) =>
      Number(await ssh(host, name, "cut -d' ' -f1 /proc/uptime"));

    const startAgent = async (host: Host): Promise<Proc> => {
      const p = new Proc(`agent ${host}`, agentArgs(host), { STRATUS_SERVICE_PASSWORD: adminPassword });
      agents.set(host, p);
      await p.waitFor(new RegExp(`Compute agent ${host} is ready`), 120_000);
      return p;
    };

    /** The first bytes a console websocket relays (a VNC server's greeting; the serial port's output). */
    const consoleBytes = (url: string, until: RegExp) =>
      new Promise<string>((res, rej) => {
        const ws = new WebSocket(url);
        let got = "";
        const timer = setTimeout(() => {
          ws.terminate();
          rej(new Error(`${url}: no ${until} within 60 s (got ${JSON.stringify(got.slice(-200))})`));
        }, 60_000);
        ws.on("message", (m: Buffer) => {
          got += m.toString("latin1");
          if (until.test(got)) {
            clearTimeout(timer);
            ws.close();
            res(got);
          }
        });
        ws.once("error", (e) => {
          clearTimeout(timer);
          rej(e);
        });
      });

    before(
      async () => {
        assert.ok(existsSync(OPENSTACK), `${OPENSTACK} is missing: apt-get install python3-openstackclient`);
        const env = await processCloudEnv("qemuagents");
        if ("skip" in env) {
          skip = env.skip;
          return;
        }
        let dbUrl: string;
        let busUrl: string;
        ({ dbUrl, busUrl, root, cleanup } = env);
        key = join(root, "key");
        const kg = await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key], process.env);
        assert.equal(kg.code, 0, kg.stderr);
        // The control plane's metadata service on a known port, with a secret agent A is given a copy of.
        const mdPort = await freePort();
        const secret = randomBytes(32).toString("hex");
        const cpDir = join(root, "cp");
        for (const dir of [cpDir, dirOf(A), dirOf(B)]) mkdirSync(dir, { recursive: true });
        writeFileSync(join(cpDir, "metadata-proxy-secret"), `${secret}\n`, { mode: 0o600 });
        writeFileSync(join(dirOf(A), "metadata-proxy-secret"), `${secret}\n`, { mode: 0o600 });
        writeFileSync(
          join(cpDir, "stratus.yaml"),
          `compute:\n  hosts: 0\n  metadata:\n    port: ${mdPort}\n`,
        );
        // prettier-ignore
        const agentYaml = [
        "compute:", "  reportInterval: 2", "  syncPowerStateInterval: 5",
        "  qemu:", "    accel: tcg", "    hostForwardSsh: true", "    softRebootTimeout: 60", "",
      ].join("\n");
        for (const h of [A, B]) writeFileSync(join(dirOf(h), "stratus.yaml"), agentYaml);
        const up = await startUp(
          "control plane",
          { dataDir: cpDir, dbUrl, busUrl, args: ["--compute-hosts", "0", "--compute-driver", "qemu"] },
          BUILD_MS,
        );
        cp = up.proc;
        base = up.base;
        cloudsYaml = join(cpDir, "clouds.yaml");
        adminPassword = up.clouds["stratus-admin"].auth.password as string;
        // prettier-ignore
        agentArgs = (host) => [
        "agent", "compute", "--host", host, "--bus", busUrl, "--db", dbUrl, "--data-dir", dirOf(host),
        "--compute-driver", "qemu", "--auth-url", `${base}/identity/v3`, "--log-file", join(dirOf(host), "agent.log"),
        // Guests on QEMU user networking, as the control plane's network driver is noop: no network agent here.
        "--no-network-agent",
        ...(host === A ? ["--metadata-url", `http://127.0.0.1:${mdPort}`] : []),
      ];
        for (const h of [A, B]) await startAgent(h);
        skip = null;
      },
      { timeout: BUILD_MS + 300_000 },
    );

    after(async () => {
      for (const p of [...agents.values(), cp]) await p?.stop().catch(() => undefined);
      for (const uuid of uuids.values())
        for (const pid of qemuPids(uuid)) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone meanwhile
          }
        }
      for (const h of [A, B]) {
        rmSync(layout(h).runDir, { recursive: true, force: true });
        rmSync(join(tmpdir(), "stratus-q-hosts", h), { force: true });
      }
      await cleanup();
    });

    test("agent A boots the guest image: images through the catalog, metadata from the control plane, SSH", async (t) => {
      if (guard(t)) return;
      assert.match(
        agents.get(A)!.output,
        /images from http:\/\/127\.0\.0\.1:\d+\/image as admin, metadata from http/,
      );
      assert.match(agents.get(B)!.output, /metadata served here at http:\/\/127\.0\.0\.1:\d+/);
      const hv = JSON.parse(await osc(["hypervisor", "list", "-f", "json"])) as Array<Record<string, string>>;
      assert.deepEqual(hv.map((h) => h["Hypervisor Hostname"]).sort(), [A, B]);
      const images = JSON.parse(await osc(["image", "list", "-f", "json"])) as Array<{ Name: string }>;
      const direct = images.find((i) => i.Name === GUEST_IMAGE_NAMES.direct);
      assert.ok(direct, `the control plane registered no guest image: ${JSON.stringify(images)}`);
      imageName = direct.Name;
      await osc(["keypair", "create", "--public-key", `${key}.pub`, "k1"]);
      await osc(["flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "qa1"]);
      // prettier-ignore
      const vm1 = JSON.parse(await osc([
      "server", "create", "--image", direct.Name, "--flavor", "qa1", "--key-name", "k1",
      "--availability-zone", `nova:${A}`, "--wait", "vm1", "-f", "json",
    ])) as Record<string, any>;
      uuids.set("vm1", vm1.id);
      assert.equal(vm1.status, "ACTIVE");
      assert.equal((await show("vm1"))["OS-EXT-SRV-ATTR:host"], A);
      assert.ok(existsSync(layout(A).paths(vm1.id).record), "the guest is on agent A");
      await consoleHas("vm1", /vm1 login:/);
      const log = await consoleLog("vm1");
      assert.match(log, /datasource: metadata service/);
      assert.match(log, new RegExp(`instance-id: ${vm1.id}`));
      // The key came from the control plane's metadata service (no config drive).
      assert.equal(await ssh(A, "vm1", "hostname"), "vm1");
    });

    test("live migration to agent B: same guest running on, SSH and consoles work, nothing left on A", async (t) => {
      if (guard(t)) return;
      const id = uuids.get("vm1")!;
      const [srcPid] = qemuPids(id);
      assert.ok(srcPid && cmdline(srcPid).includes(layout(A).runDir));
      // A counter on the serial port, one line a second, running across the move (setsid: it outlives the SSH
      // session; the guest has no nohup).
      await ssh(
        A,
        "vm1",
        `sudo sh -c 'setsid sh -c "i=0; while true; do i=\\$((i+1)); echo TICK-\\$i; sleep 1; done" </dev/null >/dev/ttyS0 2>&1 &'`,
      );
      const before = await untilOk(
        "ticks on vm1's console",
        async () => ticks(await consoleLog("vm1")).at(-1),
        60_000,
        1000,
      );
      const upBefore = await uptime(A, "vm1");
      // prettier-ignore
      await osc(["--os-compute-api-version", "2.30", "server", "migrate", "--live-migration", "--host", B, "--wait", "vm1"]);
      const moved = await settled("vm1", "ACTIVE", B);
      assert.equal(moved["OS-EXT-SRV-ATTR:host"], B);
      const migrations = JSON.parse(
        await osc([
          "--os-compute-api-version",
          "2.59",
          "server",
          "migration",
          "list",
          "--server",
          id,
          "-f",
          "json",
        ]),
      ) as Array<Record<string, string>>;
      assert.deepEqual(
        migrations.map((m) => [m.Type, m["Source Compute"], m["Dest Compute"], m.Status]),
        [["live-migration", A, B, "completed"]],
      );
      // One QEMU, now agent B's; the guest was not rebooted: its uptime and its counter went on.
      const pids = qemuPids(id);
      assert.equal(pids.length, 1);
      assert.notEqual(pids[0], srcPid);
      assert.ok(cmdline(pids[0]).includes(layout(B).runDir), "the QEMU is agent B's");
      const after = await untilOk(
        "the counter going on, on agent B's console",
        async () => {
          const n = ticks(await consoleLog("vm1"));
          return n.length >= 2 ? n : null;
        },
        60_000,
        1000,
      );
      assert.ok(after[0] > before, `the counter went on (${before} before the move, ${after[0]} after)`);
      assert.doesNotMatch(await consoleLog("vm1"), /Linux version|login:/, "no boot on B");
      assert.ok((await uptime(B, "vm1")) > upBefore, "not rebooted");
      assert.equal(await ssh(B, "vm1", "hostname"), "vm1");
      // Agent A has nothing left for it: no QEMU, no instance directory, no sockets; B's record names none of A's
      // files (its kernel and initrd are B's, and so is the base image its disk names from its next boot).
      assert.deepEqual(readdirSync(join(stateDir(A), "instances")), []);
      assert.equal(existsSync(layout(A).paths(id).sockDir), false);
      assert.doesNotMatch(readFileSync(layout(B).paths(id).record, "utf8"), new RegExp(stateDir(A)));
      // Both console kinds reach the guest through agent B.
      const serial = JSON.parse(await osc(["console", "url", "show", "--serial", "vm1", "-f", "json"])).url;
      assert.match(await consoleBytes(serial, /TICK-\d+/), /TICK-\d+/);
      const novnc = new URL(
        JSON.parse(await osc(["console", "url", "show", "--novnc", "vm1", "-f", "json"])).url,
      );
      const vnc = `${base.replace(/^http/, "ws")}/vnc${novnc.searchParams.get("path")}`;
      assert.match(await consoleBytes(vnc, /^RFB 003\.00\d\n/), /^RFB/);
    });

    test("two guests on agent B; kill -9 of B and a restart: same QEMUs, both still manageable, nothing left", async (t) => {
      if (guard(t)) return;
      // prettier-ignore
      const vm2 = JSON.parse(await osc([
      "server", "create", "--image", imageName, "--flavor", "qa1", "--key-name", "k1",
      "--availability-zone", `nova:${B}`, "--wait", "vm2", "-f", "json",
    ])) as Record<string, any>;
      uuids.set("vm2", vm2.id);
      await settled("vm2", "ACTIVE", B);
      // Its key came from agent B's own metadata service.
      assert.equal(await ssh(B, "vm2", "hostname"), "vm2");
      const vm1 = uuids.get("vm1")!;
      const pids = [qemuPids(vm1), qemuPids(vm2.id)];
      assert.ok(
        pids.every((p) => p.length === 1),
        `one QEMU each: ${JSON.stringify(pids)}`,
      );
      const upBefore = await uptime(B, "vm1");

      const agentB = agents.get(B)!;
      agentB.child.kill("SIGKILL");
      await agentB.exited;
      assert.deepEqual([qemuPids(vm1), qemuPids(vm2.id)], pids, "the guests outlive their agent");
      const restarted = await startAgent(B);
      assert.match(restarted.output, /2 guest\(s\)/);
      assert.deepEqual([qemuPids(vm1), qemuPids(vm2.id)], pids, "the restarted agent adopted the same QEMUs");
      await settled("vm1", "ACTIVE", B);
      await settled("vm2", "ACTIVE", B);
      assert.ok((await uptime(B, "vm1")) > upBefore);
      // The serial log is attached again: the counter shows up on the console once more.
      const seen = ticks(await consoleLog("vm1")).at(-1) ?? 0;
      await untilOk(
        "new ticks after the restart",
        async () => (ticks(await consoleLog("vm1")).at(-1) ?? 0) > seen,
        60_000,
        1000,
      );

      // Manageable: an NMI through QMP (openstack server dump create), stop/start, delete.
      await osc(["--os-compute-api-version", "2.17", "server", "dump", "create", "vm2"]);
      await consoleHas("vm2", /NMI received/);
      await settled("vm2", "ACTIVE", B);
      assert.equal(await ssh(B, "vm2", "hostname"), "vm2", "the guest runs on after the NMI");
      // Host A goes away, files and all: the migrated guest boots again from agent B's own files.
      await agents.get(A)!.stop();
      rmSync(stateDir(A), { recursive: true, force: true });
      await ssh(B, "vm1", "sync");
      await osc(["server", "stop", "vm1"]);
      await settled("vm1", "SHUTOFF", B);
      assert.deepEqual(qemuPids(vm1), []);
      await osc(["server", "start", "vm1"]);
      await settled("vm1", "ACTIVE", B);
      assert.equal(await ssh(B, "vm1", "hostname"), "vm1");
      await consoleHas("vm1", /vm1 login:/); // booted on B (the log on B had no boot until now)
      assert.deepEqual(qemuPids(vm2.id), pids[1]);

      await osc(["server", "delete", "--wait", "vm1", "vm2"]);
      for (const u of [vm1, vm2.id]) {
        assert.deepEqual(qemuPids(u), [], `no QEMU left for ${u}`);
        for (const h of [A, B])
          assert.equal(existsSync(layout(h).paths(u).sockDir), false, `no sockets on ${h}`);
      }
      assert.deepEqual(readdirSync(join(stateDir(B), "instances")), [], "no files on B");
    });
  },
);

// The volume agent killed -9 with volumes attached to a running guest. `bin/stratus up --no-volume-agent` (qemu
// driver under TCG, PostgreSQL and RabbitMQ) and `bin/stratus agent volume` on its own data directory; one guest
// with a raw volume over iSCSI (tgtd, CHAP) and a qcow2 one over NBD (qemu-storage-daemon). The guest writes,
// syncs and reads back a pattern on both before the kill, while the agent is dead, and after a new agent started:
// it adopted the same daemons (no second one), the targets and exports are the same and the volumes stay in-use.
// Then both are detached (no target or export left) and the agent's graceful stop stops its daemons.
// Root, QEMU, tgt, qemu-storage-daemon, PostgreSQL or RabbitMQ missing fails under CI.
import { strict as assert } from "node:assert";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { registerGuestImage } from "../../src/cloud/guest-image.js";
import { loadConfig } from "../../src/shared/config.js";
import { volumeDriverFor, volumeRunDir, wipeVolumes } from "../../src/volume/drivers/configured.js";
import { NbdTransport } from "../../src/volume/drivers/nbd.js";
import { TgtTransport } from "../../src/volume/drivers/tgt.js";
import {
  login,
  processCloudEnv,
  request,
  startUp,
  type ProcessCloudEnv,
  type UpProcess,
} from "../helpers/multiprocess.js";
import { Proc } from "../helpers/stratus-process.js";
import { until } from "../helpers/wait.js";
import { findInstanceRecord, skipWithoutVolumeInfra } from "../helpers/volume-infra.js";

const SKIP = skipWithoutVolumeInfra({ qemu: true });
const GUEST_MS = 420_000;
const VOL_MV = "volume 3.59";
const HOST = "volhost";

describe(
  "kill -9 of the volume agent with an iSCSI and an NBD volume attached to a guest",
  { skip: SKIP },
  () => {
    let env: ProcessCloudEnv | undefined;
    let up: UpProcess | undefined;
    let agent: Proc | undefined;
    let upDir = "";
    let volDir = "";
    let key = "";
    let base = "";
    let admin = { token: "", project: "" };
    let demo = { token: "", project: "" };
    let server = "";
    const volumes: string[] = [];

    const startAgent = async () => {
      // prettier-ignore
      const p = new Proc("stratus agent volume", [
      "agent", "volume", "--host", HOST, "--db", env!.dbUrl, "--bus", env!.busUrl, "--data-dir", volDir,
      "--log-level", "warn",
    ]);
      agent = p;
      await p.waitFor(new RegExp(`Volume agent ${HOST} is ready`), 60_000);
      return p;
    };
    const transports = () => {
      const t = volumeDriverFor(loadConfig({ dataDir: volDir }, {})).transports;
      const tgt = t.get("iscsi");
      const nbd = t.get("nbd");
      assert.ok(tgt instanceof TgtTransport && nbd instanceof NbdTransport);
      return { tgt, nbd };
    };
    /** The daemons serving the agent's run directory, as `ps` lists them. */
    const daemonProcs = () =>
      execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
        .split("\n")
        .filter((l) => l.includes(volumeRunDir(volDir)));
    const vol = (method: string, path: string, body?: unknown, who = demo) =>
      request(base, method, `/volume/v3/${who.project}${path}`, {
        token: who.token,
        body,
        headers: { "openstack-api-version": VOL_MV },
      });
    const compute = (method: string, path: string, body?: unknown, who = demo) =>
      request(base, method, `/compute/v2.1${path}`, {
        token: who.token,
        body,
        headers: { "x-openstack-nova-api-version": "2.79" },
      });
    const waitVolume = (id: string, status: string) =>
      until(
        `volume ${id} ${status}`,
        async () => {
          const v = (await vol("GET", `/volumes/${id}`)).body?.volume;
          if (v?.status === "error") throw new Error(`volume ${id} went to error`);
          return v?.status === status ? v : undefined;
        },
        120_000,
        200,
      );
    const ssh = (cmd: string, timeoutMs = GUEST_MS) => {
      const rec = findInstanceRecord(upDir, server);
      assert.ok(rec, `no record of ${server}`);
      const port = (JSON.parse(readFileSync(rec, "utf8")) as { sshPort: number }).sshPort;
      return until(
        `ssh ${cmd}`,
        () =>
          new Promise<string | undefined>((res) =>
            execFile(
              "ssh",
              [
                ...["-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
                ...["-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "BatchMode=yes"],
                ...["-p", String(port), `cirros@127.0.0.1`, cmd],
              ],
              { timeout: 60_000 },
              (err, stdout) => res(err ? undefined : stdout.trim()),
            ),
          ),
        timeoutMs,
        1000,
      );
    };
    /** The guest's disk whose serial is the volume's id. */
    const devOf = async (volumeId: string) => {
      const d = await ssh(
        `for d in /sys/block/vd*; do [ "$(cat $d/serial)" = "${volumeId.slice(0, 20)}" ] && basename $d; done; true`,
      );
      assert.match(d, /^vd[a-z]$/, `no disk with serial ${volumeId} in the guest`);
      return `/dev/${d}`;
    };
    /** In the guest: write a fresh pattern at `block` (4 KiB blocks) of `dev`, sync, drop caches, read it back. */
    const pattern = async (dev: string, block: number) => {
      const out = await ssh(
        `sudo sh -c 'dd if=/dev/urandom of=/tmp/p bs=4096 count=64 2>/dev/null && ` +
          `dd if=/tmp/p of=${dev} bs=4096 seek=${block} conv=fsync 2>/dev/null && sync && ` +
          `echo 3 > /proc/sys/vm/drop_caches && a=$(md5sum < /tmp/p) && ` +
          `b=$(dd if=${dev} bs=4096 skip=${block} count=64 2>/dev/null | md5sum) && [ "$a" = "$b" ] && echo same'`,
        120_000,
      );
      assert.equal(out, "same", `the pattern at block ${block} of ${dev} did not read back`);
    };

    before(async () => {
      if (SKIP) return;
      const e = await processCloudEnv("volkill");
      assert.ok(!("skip" in e), "skip" in e ? e.skip : "");
      env = e;
      upDir = join(env.root, "up");
      volDir = join(env.root, "vol");
      key = join(env.root, "key");
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
      await chmod(key, 0o600);
      execFileSync("mkdir", ["-p", upDir]);
      writeFileSync(
        join(upDir, "stratus.yaml"),
        [
          "compute:",
          "  driver: qemu",
          "  qemu: { accel: tcg, hostForwardSsh: true, guestImage: false }",
          "volume:",
          "  reportInterval: 1",
        ].join("\n"),
      );
      up = await startUp(
        "stratus up",
        { ...env, dataDir: upDir, args: ["--no-volume-agent", "--compute-driver", "qemu"] },
        180_000,
      );
      base = up.base;
      const a = up.clouds["stratus-admin"].auth;
      const d = up.clouds["stratus-demo"].auth;
      admin = await login(base, a.username, a.password, a.project_name);
      demo = await login(base, d.username, d.password, d.project_name);
      await startAgent();
    });

    after(async () => {
      if (server) {
        await compute("DELETE", `/servers/${server}`, undefined, admin).catch(() => undefined);
        await until(
          "the server gone",
          async () =>
            (await compute("GET", `/servers/${server}`, undefined, admin)).status === 404 ? true : undefined,
          GUEST_MS,
          500,
        ).catch(() => undefined);
      }
      for (const id of volumes) await vol("DELETE", `/volumes/${id}`).catch(() => undefined);
      if (agent?.running) await agent.stop(15_000);
      await up?.proc.stop(15_000);
      if (volDir) await wipeVolumes(loadConfig({ dataDir: volDir }, {})).catch(() => undefined);
      await env?.cleanup();
    });

    test("the guest's I/O goes on through the kill; the new agent adopts the daemons; detach leaves nothing", async () => {
      const reg = await registerGuestImage({ imageUrl: `${base}/image`, token: async () => admin.token });
      const fl = await compute(
        "POST",
        "/flavors",
        { flavor: { name: "vk1", ram: 256, vcpus: 1, disk: 1 } },
        admin,
      );
      assert.equal(fl.status, 200, fl.text);
      const kp = await compute("POST", "/os-keypairs", {
        keypair: { name: "k", public_key: readFileSync(`${key}.pub`, "utf8") },
      });
      assert.equal(kp.status, 201, kp.text); // 2.2 on
      const ty = await vol(
        "POST",
        "/types",
        { volume_type: { name: "raw", extra_specs: { "file:format": "raw" } } },
        admin,
      );
      assert.equal(ty.status, 200, ty.text);
      const create = async (body: Record<string, unknown>) => {
        const r = await vol("POST", "/volumes", { volume: { size: 1, ...body } });
        assert.equal(r.status, 202, r.text);
        volumes.push(r.body.volume.id);
        return (await waitVolume(r.body.volume.id, "available")).id as string;
      };
      const iscsiVol = await create({ name: "ki", volume_type: "raw" });
      const nbdVol = await create({ name: "kn" });

      const sv = await compute("POST", "/servers", {
        server: {
          name: "vk",
          imageRef: reg.directId,
          flavorRef: fl.body.flavor.id,
          key_name: "k",
          networks: "none",
        },
      });
      assert.equal(sv.status, 202, sv.text);
      server = sv.body.server.id;
      await until(
        "the server ACTIVE",
        async () => {
          const s = (await compute("GET", `/servers/${server}`)).body.server;
          if (s.status === "ERROR") throw new Error(`the server failed: ${JSON.stringify(s.fault)}`);
          return s.status === "ACTIVE" ? true : undefined;
        },
        GUEST_MS,
        1000,
      );
      assert.equal(await ssh("hostname"), "vk");
      for (const id of [iscsiVol, nbdVol]) {
        const r = await compute("POST", `/servers/${server}/os-volume_attachments`, {
          volumeAttachment: { volumeId: id },
        });
        assert.equal(r.status, 200, r.text);
        await waitVolume(id, "in-use");
      }
      const atts = (await vol("GET", "/attachments/detail")).body.attachments as Array<{
        volume_id: string;
        connection_info: { driver_volume_type: string } | null;
      }>;
      assert.equal(atts.find((x) => x.volume_id === iscsiVol)?.connection_info?.driver_volume_type, "iscsi");
      assert.equal(atts.find((x) => x.volume_id === nbdVol)?.connection_info?.driver_volume_type, "nbd");
      const iDev = await devOf(iscsiVol);
      const nDev = await devOf(nbdVol);
      await pattern(iDev, 0);
      await pattern(nDev, 0);

      // kill -9: the daemons keep serving, the guest keeps writing and reading.
      const { tgt, nbd } = transports();
      const pids = { tgtd: tgt.pid(), qsd: nbd.pid() };
      assert.ok(pids.tgtd !== null && pids.qsd !== null, daemonProcs().join("\n"));
      agent!.child.kill("SIGKILL");
      await agent!.exited;
      assert.deepEqual({ tgtd: tgt.pid(), qsd: nbd.pid() }, pids);
      await pattern(iDev, 256);
      await pattern(nDev, 256);

      // A new agent reconciles: the same daemons, the same targets and exports, the volumes still in-use.
      await startAgent();
      assert.deepEqual({ tgtd: tgt.pid(), qsd: nbd.pid() }, pids, "the restarted agent started new daemons");
      const procs = daemonProcs();
      assert.equal(procs.filter((l) => /^\s*\d+ qemu-storage-daemon /.test(l)).length, 1, procs.join("\n"));
      assert.equal(procs.filter((l) => /^\s*\d+ tgtd /.test(l)).length, 2, procs.join("\n")); // tgtd forks once
      assert.deepEqual(await tgt.exported(), [iscsiVol]);
      assert.deepEqual(await nbd.exported(), [nbdVol]);
      for (const id of [iscsiVol, nbdVol])
        assert.equal((await vol("GET", `/volumes/${id}`)).body.volume.status, "in-use");
      await pattern(iDev, 512);
      await pattern(nDev, 512);
      assert.equal(await ssh("dmesg | grep -ci 'i/o error' || true"), "0", "the guest saw I/O errors");

      // Detach both: no target, no export left; the agent's graceful stop then stops its daemons.
      for (const id of [iscsiVol, nbdVol]) {
        const r = await compute("DELETE", `/servers/${server}/os-volume_attachments/${id}`);
        assert.equal(r.status, 202, r.text);
        await waitVolume(id, "available");
      }
      assert.deepEqual(await tgt.exported(), []);
      assert.deepEqual(await nbd.exported(), []);
      assert.deepEqual(await tgt.targets(), []);
      await agent!.stop(15_000);
      assert.equal(agent!.child.exitCode, 0, agent!.output);
      assert.deepEqual({ tgtd: tgt.pid(), qsd: nbd.pid() }, { tgtd: null, qsd: null });
      assert.deepEqual(daemonProcs(), []);
      assert.ok(!existsSync(volumeRunDir(volDir)));
    });
  },
);

// The real openstack CLI (python3-openstackclient 6.0.0, python3-osc-placement) against the compute API with the
// fake driver on two in-process hosts: servers and their actions, server groups, aggregates, quotas and limits,
// hypervisors, compute services, and the placement records the servers leave behind.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  killStratus,
  OPENSTACK,
  pyEnv,
  startStratus,
  terminateStratus,
  type ExecResult,
  type StratusProcess,
} from "../helpers/stratus-process.js";

/** Any one CLI call; OSC's --wait polls every 5 s, so a waited action takes 5-10 s with the fake driver. */
const CALL_TIMEOUT_MS = 90_000;
/** How long a state change without --wait (stop, pause, ...) may take to show. */
const STATE_TIMEOUT_MS = 30_000;
/** The microversion where `--nic none` exists (2.37) and `locked` is shown (2.9). */
const MV = "2.37";

interface Server {
  id: string;
  name: string;
  status: string;
  flavor: string;
  image: string;
  locked?: boolean;
  "OS-EXT-SRV-ATTR:host": string;
  "OS-EXT-STS:task_state": string | null;
}

/** Run a command with a deadline: SIGKILL when it passes (the result then says so in stderr). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ExecResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", rej);
    child.on("close", (code, signal) =>
      res({
        code,
        stdout,
        stderr: signal ? `${stderr}\n(killed by ${signal} after ${timeoutMs / 1000} s)` : stderr,
      }),
    );
  });
}

describe("openstack CLI: servers, actions and operator APIs on two fake hosts", () => {
  let s: StratusProcess;
  let imageId = "";
  let imageAltId = "";
  let hosts: string[] = [];
  /** The server the action tests work on. */
  let vm: Server;
  /** The anti-affinity group and the servers booted into it. */
  let groupMembers = { group: "", servers: [] as string[] };

  const env = (cloud: string) => pyEnv({ OS_CLIENT_CONFIG_FILE: s.cloudsYaml, OS_CLOUD: cloud });
  const os = (args: string[], cloud = "stratus-admin", timeoutMs = CALL_TIMEOUT_MS) =>
    run(OPENSTACK, args, env(cloud), timeoutMs);
  /** `openstack ARGS` must succeed; its -f json output (with json = true) or stdout. */
  const ok = async (args: string[], json = true, cloud = "stratus-admin"): Promise<any> => {
    const r = await os(json ? [...args, "-f", "json"] : args, cloud);
    assert.equal(r.code, 0, `openstack ${args.join(" ")} exited ${r.code}:\n${r.stderr}`);
    if (!json) return r.stdout;
    // With --wait, some commands print "Complete" before the JSON.
    const at = r.stdout.search(/^[[{]/m);
    return at < 0 ? null : JSON.parse(r.stdout.slice(at));
  };
  const show = (id: string): Promise<Server> => ok(["--os-compute-api-version", MV, "server", "show", id]);
  /** Poll `server show` until `pred` holds (bounded); the last server shown. */
  const until = async (id: string, what: string, pred: (v: Server) => boolean): Promise<Server> => {
    const deadline = Date.now() + STATE_TIMEOUT_MS;
    for (;;) {
      const v = await show(id);
      if (pred(v)) return v;
      if (Date.now() > deadline)
        assert.fail(
          `server ${id} did not become ${what} in ${STATE_TIMEOUT_MS / 1000} s: ${JSON.stringify(v)}`,
        );
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const settled = (status: string) => (v: Server) => v.status === status && !v["OS-EXT-STS:task_state"];

  before(async () => {
    // Two fake hosts, so that resize (Nova's allow_resize_to_same_host is off) and migration have a destination.
    process.env.STRATUS_COMPUTE_HOSTS = "2";
    s = await startStratus("stratus-e2e-compute-servers-");
    const raw = join(s.dir, "disk.raw");
    await writeFile(raw, Buffer.alloc(2 * 1024 * 1024));
    const image = (name: string) =>
      ok([
        "image",
        "create",
        name,
        "--file",
        raw,
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "--public",
      ]);
    imageId = (await image("e2e-disk")).id;
    imageAltId = (await image("e2e-disk-alt")).id;
  });
  after(async () => {
    if (s) await terminateStratus(s);
    await killStratus(s);
  });

  test("compute service list shows both hosts up; set --disable with a reason, then --enable", async () => {
    const services: Array<{ Binary: string; Host: string; Status: string; State: string }> = await ok([
      "compute",
      "service",
      "list",
    ]);
    for (const b of ["nova-conductor", "nova-scheduler"])
      assert.ok(
        services.some((x) => x.Binary === b),
        b,
      );
    const computes = services.filter((x) => x.Binary === "nova-compute");
    assert.equal(computes.length, 2);
    assert.ok(computes.every((x) => x.Status === "enabled" && x.State === "up"));
    hosts = computes.map((x) => x.Host).sort();

    await ok(
      ["compute", "service", "set", "--disable", "--disable-reason", "e2e maint", hosts[1], "nova-compute"],
      false,
    );
    const long: Array<Record<string, string>> = await ok(["compute", "service", "list", "--long"]);
    const row = long.find((x) => x.Host === hosts[1] && x.Binary === "nova-compute")!;
    assert.equal(row.Status, "disabled");
    assert.equal(row["Disabled Reason"], "e2e maint");
    await ok(["compute", "service", "set", "--enable", hosts[1], "nova-compute"], false);
    const again: Array<Record<string, string>> = await ok([
      "compute",
      "service",
      "list",
      "--service",
      "nova-compute",
    ]);
    assert.ok(again.every((x) => x.Status === "enabled"));
  });

  test("hypervisor list/show and hypervisor stats show", async () => {
    const list: Array<Record<string, string>> = await ok(["hypervisor", "list"]);
    assert.deepEqual(list.map((h) => h["Hypervisor Hostname"]).sort(), hosts);
    assert.ok(list.every((h) => h["Hypervisor Type"] === "fake" && h.State === "up"));
    const one = await ok(["hypervisor", "show", hosts[0]]);
    assert.equal(one.hypervisor_hostname, hosts[0]);
    assert.equal(one.status, "enabled");
    assert.ok(one.vcpus > 0 && one.memory_mb > 0 && one.local_gb > 0);
    const stats = await ok(["hypervisor", "stats", "show"]);
    assert.equal(stats.count, 2);
    assert.equal(stats.vcpus, 2 * one.vcpus);
  });

  test("aggregate create --zone, add host, set --zone, show, remove host, delete", async () => {
    const agg = await ok(["aggregate", "create", "--zone", "e2e-az1", "e2e-agg"]);
    assert.equal(agg.availability_zone, "e2e-az1");
    await ok(["aggregate", "add", "host", "e2e-agg", hosts[1]]);
    // No server runs yet, so the zone may change (Nova refuses when a host of the aggregate has instances).
    await ok(["aggregate", "set", "--zone", "e2e-az2", "--property", "ssd=true", "e2e-agg"], false);
    const shown = await ok(["aggregate", "show", "e2e-agg"]);
    assert.equal(shown.availability_zone, "e2e-az2");
    assert.deepEqual(shown.hosts, [hosts[1]]);
    assert.equal(shown.properties.ssd, "true");
    const zones: Array<{ "Zone Name": string }> = await ok(["availability", "zone", "list", "--compute"]);
    assert.ok(
      zones.some((z) => z["Zone Name"] === "e2e-az2"),
      JSON.stringify(zones),
    );
    await ok(["aggregate", "remove", "host", "e2e-agg", hosts[1]]);
    await ok(["aggregate", "delete", "e2e-agg"], false);
    const left: Array<{ Name: string }> = await ok(["aggregate", "list"]);
    assert.ok(!left.some((a) => a.Name === "e2e-agg"));
  });

  test("server group create/list/show; anti-affinity members land on different hosts; delete", async () => {
    const g = await ok(["server", "group", "create", "--policy", "anti-affinity", "e2e-group"]);
    assert.equal(g.policy, "anti-affinity");
    const list: Array<{ ID: string; Name: string }> = await ok(["server", "group", "list"]);
    assert.ok(list.some((x) => x.ID === g.id && x.Name === "e2e-group"));
    assert.equal((await ok(["server", "group", "show", g.id])).name, "e2e-group");
    const members: Server[] = [];
    for (const name of ["e2e-aa-1", "e2e-aa-2"])
      members.push(
        await ok([
          ...["server", "create", "--image", "e2e-disk", "--flavor", "m1.nano"],
          ...["--hint", `group=${g.id}`, "--wait", name],
        ]),
      );
    assert.deepEqual(
      members.map((m) => m.status),
      ["ACTIVE", "ACTIVE"],
    );
    assert.deepEqual(members.map((m) => m["OS-EXT-SRV-ATTR:host"]).sort(), hosts);
    groupMembers = { group: g.id, servers: members.map((m) => m.id) };
  });

  test("server group show lists the group's servers as members", async () => {
    const shown = await ok(["server", "group", "show", groupMembers.group]);
    const listed = Array.isArray(shown.members) ? shown.members : String(shown.members).split(/[,\s]+/);
    assert.deepEqual(listed.filter(Boolean).sort(), [...groupMembers.servers].sort());
  });

  test("server group members deleted, then the group", async () => {
    for (const id of groupMembers.servers) await ok(["server", "delete", "--wait", id], false);
    await ok(["server", "group", "delete", "e2e-group"], false);
    assert.notEqual((await os(["server", "group", "show", groupMembers.group])).code, 0);
  });

  test("server create --wait (default networks and --nic none), list, show, delete --wait", async () => {
    vm = await ok(["server", "create", "--image", "e2e-disk", "--flavor", "m1.nano", "--wait", "e2e-vm"]);
    assert.equal(vm.status, "ACTIVE");
    assert.ok(hosts.includes(vm["OS-EXT-SRV-ATTR:host"]), vm["OS-EXT-SRV-ATTR:host"]);
    assert.equal(vm.flavor, "m1.nano (42)");
    assert.equal(vm.image, `e2e-disk (${imageId})`);
    // OSC 6.0.0 sends "none" as a string, which the API takes from 2.37 on (below, it is not a list of networks).
    const bare: Server = await ok([
      "--os-compute-api-version",
      MV,
      "server",
      "create",
      "--image",
      imageAltId,
      "--flavor",
      "m1.nano",
      "--nic",
      "none",
      "--wait",
      "e2e-vm-nonet",
    ]);
    assert.equal(bare.status, "ACTIVE");
    const list: Array<{ Name: string; Status: string }> = await ok(["server", "list"]);
    assert.deepEqual(list.map((x) => `${x.Name} ${x.Status}`).sort(), [
      "e2e-vm ACTIVE",
      "e2e-vm-nonet ACTIVE",
    ]);
    assert.equal((await show(bare.id)).name, "e2e-vm-nonet");
    await ok(["server", "delete", "--wait", bare.id], false);
    const gone = await os(["server", "show", bare.id]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /No server with a name or ID/);
  });

  test("server create --network private (demo), addresses in server show, server add/remove port, port list --server", async () => {
    const demo = "stratus-demo";
    const srv = await ok(
      [
        "server",
        "create",
        "--image",
        "e2e-disk",
        "--flavor",
        "m1.nano",
        "--network",
        "private",
        "--wait",
        "e2e-net",
      ],
      true,
      demo,
    );
    assert.equal(srv.status, "ACTIVE");
    const ports: Array<{ ID: string; "MAC Address": string; "Fixed IP Addresses": unknown }> = await ok(
      ["port", "list", "--server", srv.id],
      true,
      demo,
    );
    assert.equal(ports.length, 1);
    const shown = await ok(["server", "show", srv.id], true, demo);
    // OSC 6.0.0 prints addresses as {"private": ["10.0.0.x"]}.
    const addrs: string[] = shown.addresses.private;
    assert.equal(addrs.length, 1);
    assert.match(addrs[0], /^10\.0\.0\.\d+$/);
    const extra = await ok(["port", "create", "--network", "private", "e2e-extra"], true, demo);
    await ok(["server", "add", "port", srv.id, extra.id], false, demo);
    const both: Array<{ ID: string }> = await ok(["port", "list", "--server", srv.id], true, demo);
    assert.deepEqual(both.map((p) => p.ID).sort(), [ports[0].ID, extra.id].sort());
    assert.equal((await ok(["server", "show", srv.id], true, demo)).addresses.private.length, 2);
    await ok(["server", "remove", "port", srv.id, extra.id], false, demo);
    const one: Array<{ ID: string }> = await ok(["port", "list", "--server", srv.id], true, demo);
    assert.deepEqual(
      one.map((p) => p.ID),
      [ports[0].ID],
    );
    // The user's port outlives its detach and the server; the one compute made goes with the server.
    await ok(["server", "delete", "--wait", srv.id], false, demo);
    const left: Array<{ ID: string }> = await ok(["port", "list"], true, demo);
    assert.ok(left.some((p) => p.ID === extra.id));
    assert.ok(!left.some((p) => p.ID === ports[0].ID));
    await ok(["port", "delete", extra.id], false, demo);
  });

  test("console url show: the built-in noVNC page with a one-time token; no serial console on the fake", async () => {
    const r = await ok(["console", "url", "show", vm.id]);
    const authUrl: string = s.clouds["stratus-admin"].auth.auth_url;
    const base = authUrl.replace(/\/identity\/v3\/?$/, "");
    assert.match(r.url, /\/vnc\/vnc_lite\.html\?path=%3Ftoken%3D[0-9a-f]{48}$/);
    assert.ok(r.url.startsWith(`${base}/vnc/`), `${r.url} is on the public URL ${base}`);
    assert.equal(r.type, "novnc");
    const page = await fetch(r.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Stratus console/);
    const serial = await os(["console", "url", "show", "--serial", vm.id]);
    assert.notEqual(serial.code, 0);
    assert.match(serial.stderr, /400: .*Unavailable console type serial\./);
  });

  test("placement: resource provider list, allocation candidate list, the server's allocation", async () => {
    const rps: Array<{ uuid: string; name: string }> = await ok(["resource", "provider", "list"]);
    assert.deepEqual(rps.map((p) => p.name).sort(), hosts);
    const cands: unknown[] = await ok(["allocation", "candidate", "list", "--resource", "VCPU=1"]);
    assert.equal(cands.length, 2);
    const alloc: Array<{ resource_provider: string; resources: Record<string, number> }> = await ok([
      "resource",
      "provider",
      "allocation",
      "show",
      vm.id,
    ]);
    const host = rps.find((p) => p.name === vm["OS-EXT-SRV-ATTR:host"])!;
    assert.equal(alloc.length, 1);
    assert.equal(alloc[0].resource_provider, host.uuid);
    assert.equal(alloc[0].resources.VCPU, 1);
  });

  test("reboot (soft and --hard, --wait), stop/start, pause/unpause, suspend/resume", async () => {
    await ok(["server", "reboot", "--wait", vm.id], false);
    assert.ok(settled("ACTIVE")(await show(vm.id)));
    await ok(["server", "reboot", "--hard", "--wait", vm.id], false);
    assert.ok(settled("ACTIVE")(await show(vm.id)));
    for (const [on, off, status] of [
      ["stop", "start", "SHUTOFF"],
      ["pause", "unpause", "PAUSED"],
      ["suspend", "resume", "SUSPENDED"],
    ]) {
      await ok(["server", on, vm.id], false);
      await until(vm.id, status, settled(status));
      await ok(["server", off, vm.id], false);
      await until(vm.id, "ACTIVE", settled("ACTIVE"));
    }
    const actions: Array<{ Action: string }> = await ok(["server", "event", "list", vm.id]);
    const seen = actions.map((a) => a.Action);
    for (const a of ["create", "reboot", "stop", "start", "pause", "unpause", "suspend", "resume"])
      assert.ok(seen.includes(a), `${a} in ${seen.join(",")}`);
  });

  test("lock/unlock: a locked server refuses its owner's actions", async () => {
    // The demo user's own server, locked by the admin.
    const mine: Server = await ok(
      ["server", "create", "--image", "e2e-disk", "--flavor", "m1.nano", "--wait", "e2e-demo-vm"],
      true,
      "stratus-demo",
    );
    await ok(["server", "lock", mine.id], false);
    assert.equal((await show(mine.id)).locked, true);
    const refused = await os(["server", "stop", mine.id], "stratus-demo");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /locked/i);
    assert.match(refused.stderr, /409/);
    await ok(["server", "unlock", mine.id], false);
    assert.equal((await show(mine.id)).locked, false);
    await ok(["server", "delete", "--wait", mine.id], false, "stratus-demo");
  });

  test("resize --wait then confirm; resize --wait then revert", async () => {
    const from = (await show(vm.id))["OS-EXT-SRV-ATTR:host"];
    await ok(["server", "resize", "--flavor", "m1.micro", "--wait", vm.id], false);
    let v = await show(vm.id);
    assert.equal(v.status, "VERIFY_RESIZE");
    assert.equal(v.flavor, "m1.micro (84)");
    assert.notEqual(v["OS-EXT-SRV-ATTR:host"], from);
    await ok(["server", "resize", "confirm", vm.id], false);
    v = await until(vm.id, "ACTIVE", settled("ACTIVE"));
    assert.equal(v.flavor, "m1.micro (84)");

    const before = v["OS-EXT-SRV-ATTR:host"];
    await ok(["server", "resize", "--flavor", "m1.tiny", "--wait", vm.id], false);
    v = await show(vm.id);
    assert.equal(v.status, "VERIFY_RESIZE");
    assert.equal(v.flavor, "m1.tiny (1)");
    await ok(["server", "resize", "revert", vm.id], false);
    v = await until(vm.id, "ACTIVE", settled("ACTIVE"));
    assert.equal(v.flavor, "m1.micro (84)");
    assert.equal(v["OS-EXT-SRV-ATTR:host"], before);
  });

  test("rebuild --image --wait", async () => {
    // OSC prints the rebuild request's answer (status REBUILD) after waiting for ACTIVE.
    const r = await ok(["server", "rebuild", "--image", "e2e-disk-alt", "--wait", vm.id]);
    assert.equal(r.id, vm.id);
    const v = await show(vm.id);
    assert.ok(settled("ACTIVE")(v));
    assert.equal(v.image, `e2e-disk-alt (${imageAltId})`);
  });

  test("server image create --wait: a snapshot image in the image service", async () => {
    const img = await ok(["server", "image", "create", "--name", "e2e-snap", "--wait", vm.id]);
    assert.equal(img.name, "e2e-snap");
    const shown = await ok(["image", "show", "e2e-snap"]);
    assert.equal(shown.status, "active");
    assert.equal(shown.properties.image_type, "snapshot");
    assert.equal(shown.properties.instance_uuid, vm.id);
    assert.ok(settled("ACTIVE")(await show(vm.id)));
    await ok(["image", "delete", "e2e-snap"], false);
  });

  test("quota set --instances, then the per-service quota list --compute --detail", async () => {
    await ok(["quota", "set", "--instances", "7", "--cores", "9", "admin"], false);
    const rows: Array<{ Resource: string; "In Use": number; Limit: number }> = await ok([
      "quota",
      "list",
      "--compute",
      "--project",
      "admin",
      "--detail",
    ]);
    const by = Object.fromEntries(rows.map((r) => [r.Resource, r]));
    assert.equal(by.instances.Limit, 7);
    assert.equal(by.instances["In Use"], 1);
    assert.equal(by.cores.Limit, 9);
    assert.equal(by.cores["In Use"], 1);
  });

  // OSC 6.0.0's quota show and limits show ask every quota service in the catalog (compute, volume, network) and
  // have no per-service option: they work because the catalog lists only the services that answer.
  test("quota show (every service in the catalog)", async () => {
    const q = await ok(["quota", "show", "admin"]);
    assert.equal(q.instances, 7);
    assert.equal(q.cores, 9);
  });

  test("limits show --absolute (every service in the catalog)", async () => {
    const rows: Array<{ Name: string; Value: number }> = await ok(["limits", "show", "--absolute"]);
    const by = Object.fromEntries(rows.map((r) => [r.Name, r.Value]));
    assert.equal(by.maxTotalInstances, 7);
    assert.equal(by.totalInstancesUsed, 1);
    assert.equal(by.maxTotalCores, 9);
  });

  test("compute limits through openstacksdk (the compute-only form of limits show)", async () => {
    const code = [
      "import json, openstack",
      "l = openstack.connect().compute.get_limits().absolute",
      "print(json.dumps({'max': l.instances, 'used': l.instances_used, 'cores': l.total_cores}))",
    ].join("\n");
    const r = await run("/usr/bin/python3", ["-c", code], env("stratus-admin"), CALL_TIMEOUT_MS);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { max: 7, used: 1, cores: 9 });
  });

  test("server delete --wait leaves no servers and no allocations", async () => {
    await ok(["server", "delete", "--wait", vm.id], false);
    assert.deepEqual(await ok(["server", "list", "--all-projects"]), []);
    const alloc = await ok(["resource", "provider", "allocation", "show", vm.id]);
    assert.deepEqual(alloc, []);
  });
});

// End to end with the real OpenStack CLI against `stratus up` (fake compute, noop network): a server on the
// private network gets a floating IP (`openstack server add floating ip`), `openstack server show` lists it among
// the server's addresses, and `openstack server ssh` picks it (a stand-in `ssh` on PATH records what it is run
// with, so nothing connects anywhere); removing the floating IP takes it out of the addresses again.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { until } from "../helpers/wait.js";
import {
  exec,
  killStratus,
  OPENSTACK,
  openstack,
  pyEnv,
  startStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";

let s: StratusProcess;
let bin = "";

const os = async (args: string[], cloud = "stratus-demo"): Promise<string> => {
  const r = await openstack(s, args, cloud);
  assert.equal(r.code, 0, `openstack ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
};
const osJson = async (args: string[]) => JSON.parse(await os([...args, "-f", "json"]));

before(async () => {
  assert.ok(existsSync(OPENSTACK), `${OPENSTACK} is missing: apt-get install python3-openstackclient`);
  s = await startStratus("stratus-addr-", { args: ["--compute-driver", "fake", "--network-driver", "noop"] });
  await until("stratus up says it is ready", () => /Stratus is ready/.test(s.output()), 120_000);
  bin = await mkdtemp(join(tmpdir(), "stratus-fake-ssh-"));
  await writeFile(join(bin, "ssh"), `#!/bin/sh\necho "$@" > "${join(bin, "ssh.args")}"\n`);
  await chmod(join(bin, "ssh"), 0o755);
});
after(async () => {
  await killStratus(s);
  if (bin) await rm(bin, { recursive: true, force: true });
});

test("server show lists the floating IP as floating; server ssh connects to it", async () => {
  const disk = join(bin, "disk.raw");
  await writeFile(disk, Buffer.alloc(1 << 20));
  const image = await osJson(["image", "create", "addr-img", "--file", disk, "--disk-format", "raw"]);
  const server = await osJson([
    "--os-compute-api-version",
    "2.37",
    "server",
    "create",
    "addr-vm",
    "--image",
    image.id,
    "--flavor",
    "m1.tiny",
    "--network",
    "private",
    "--wait",
  ]);
  const fip = await osJson(["floating", "ip", "create", "public"]);
  const addr = fip.floating_ip_address as string;
  await os(["server", "add", "floating", "ip", server.id, addr]);
  const shown = await until("the floating IP in addresses", async () => {
    const v = await osJson(["--os-compute-api-version", "2.47", "server", "show", server.id]);
    return JSON.stringify(v.addresses).includes(addr) ? v : undefined;
  });
  // The fixed address comes first, then the floating one (however this CLI version prints them).
  const text = JSON.stringify(shown.addresses);
  const fixed = server.addresses ? JSON.stringify(server.addresses).match(/10\.0\.0\.\d+/)?.[0] : undefined;
  assert.ok(fixed && text.indexOf(fixed) < text.indexOf(addr), text);

  const env = {
    ...pyEnv({ OS_CLIENT_CONFIG_FILE: s.cloudsYaml, OS_CLOUD: "stratus-demo" }),
    PATH: `${bin}:/usr/bin:/bin`,
  };
  const r = await exec(OPENSTACK, ["server", "ssh", server.id, "--login", "cirros"], env);
  assert.equal(r.code, 0, r.stderr);
  const args = (await readFile(join(bin, "ssh.args"), "utf8")).trim().split(/\s+/);
  assert.ok(args.includes(addr), `ssh ran with ${args.join(" ")}`);
  assert.deepEqual(args.slice(-2), ["-l", "cirros"]);

  await os(["server", "remove", "floating", "ip", server.id, addr]);
  await until("the floating IP gone from addresses", async () => {
    const v = await osJson(["server", "show", server.id]);
    return !JSON.stringify(v.addresses).includes(addr);
  });
  await os(["server", "delete", "--wait", server.id]);
  await os(["floating", "ip", "delete", fip.id]);
  await os(["image", "delete", image.id]);
});

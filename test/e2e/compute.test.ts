// The real openstack CLI against the compute API's flavors and keypairs, and osc-placement against placement.
import { strict as assert } from "node:assert";
import { after, before, describe, test } from "node:test";
import {
  exec,
  killStratus,
  openstack,
  pyEnv,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";

describe("openstack CLI: flavors, keypairs, placement", () => {
  let s: StratusProcess;
  before(async () => {
    s = await startStratus("stratus-e2e-compute-");
  });
  after(async () => {
    if (s) await terminateStratus(s);
    await killStratus(s);
  });

  const ok = async (args: string[], cloud = "stratus-admin"): Promise<any> => {
    const r = await openstack(s, [...args, "-f", "json"], cloud);
    assert.equal(r.code, 0, `openstack ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim() ? JSON.parse(r.stdout) : null;
  };

  test("flavor list shows the default flavors; create, show, delete; demo may not create", async () => {
    const names = (await ok(["flavor", "list"])).map((f: { Name: string }) => f.Name);
    for (const n of ["m1.nano", "m1.micro", "m1.tiny", "m1.small", "m1.medium", "m1.large"])
      assert.ok(names.includes(n), n);
    const created = await ok([
      "flavor",
      "create",
      "--ram",
      "256",
      "--vcpus",
      "1",
      "--disk",
      "2",
      "e2e.flavor",
    ]);
    assert.equal(created.ram, 256);
    assert.equal((await ok(["flavor", "show", "e2e.flavor"])).vcpus, 1);
    const denied = await openstack(
      s,
      ["flavor", "create", "--ram", "64", "--vcpus", "1", "--disk", "1", "nope"],
      "stratus-demo",
    );
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /403/);
    assert.equal((await openstack(s, ["flavor", "delete", "e2e.flavor"])).code, 0);
  });

  test("keypair create (server-generated), list, show, delete", async () => {
    const r = await openstack(s, ["keypair", "create", "e2e-key"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /PRIVATE KEY/);
    const list = await ok(["keypair", "list"]);
    assert.ok(
      list.some(
        (k: { Name: string; Fingerprint: string }) =>
          k.Name === "e2e-key" && /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/.test(k.Fingerprint),
      ),
    );
    assert.equal((await openstack(s, ["keypair", "delete", "e2e-key"])).code, 0);
  });

  // With the network service in the catalog the CLI asks it (not Nova's proxies): networks are the start-up
  // topology. Security groups and floating IPs are the network service's next stage (issue 10); until then their
  // lists are not answered, so they are not asserted here.
  test("network list shows the start-up networks to the admin and the demo project", async () => {
    for (const cloud of ["stratus-admin", "stratus-demo"]) {
      const names = (await ok(["network", "list"], cloud)).map((n: { Name: string }) => n.Name).sort();
      assert.deepEqual(names, ["private", "public"]);
    }
  });

  test("x509 key pair generated through openstacksdk, shown by the CLI at 2.2 (issue 8 item 17)", async () => {
    // OSC 6.0's `keypair create --type` passes key_type, which this openstacksdk ignores: create with the SDK.
    const code = [
      "import json, openstack",
      "k = openstack.connect().compute.create_keypair(name='e2e-x509', type='x509')",
      "print(json.dumps({'type': k.type, 'cert': k.public_key, 'key': k.private_key}))",
    ].join("\n");
    const env = pyEnv({ OS_CLIENT_CONFIG_FILE: s.cloudsYaml, OS_CLOUD: "stratus-admin" });
    const r = await exec("/usr/bin/python3", ["-c", code], env);
    assert.equal(r.code, 0, r.stderr);
    const k = JSON.parse(r.stdout);
    assert.equal(k.type, "x509");
    assert.match(k.cert, /^-----BEGIN CERTIFICATE-----\n/);
    assert.match(k.key, /^[A-Za-z0-9+/]+=*$/);
    const shown = await ok(["--os-compute-api-version", "2.2", "keypair", "show", "e2e-x509"]);
    assert.equal(shown.type, "x509");
    assert.match(shown.fingerprint, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    assert.equal((await openstack(s, ["keypair", "delete", "e2e-x509"])).code, 0);
  });

  test("resource provider and allocation candidate commands (osc-placement)", async () => {
    const rp = await ok(["--os-placement-api-version", "1.39", "resource", "provider", "create", "e2e-host"]);
    await ok([
      "resource",
      "provider",
      "inventory",
      "set",
      rp.uuid,
      "--resource",
      "VCPU=8",
      "--resource",
      "MEMORY_MB=4096",
    ]);
    const list = await ok(["resource", "provider", "list"]);
    assert.ok(list.some((p: { name: string }) => p.name === "e2e-host"));
    const cands = await ok([
      "--os-placement-api-version",
      "1.39",
      "allocation",
      "candidate",
      "list",
      "--resource",
      "VCPU=2",
    ]);
    assert.ok(cands.length >= 1);
  });
});

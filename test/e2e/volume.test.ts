// End to end for Block Storage: `bin/stratus up` as a child process (the fake volume backend), driven by Debian's
// python3-openstackclient through the catalog's volumev3 endpoint: volume create/list/show/set/delete, types with
// properties, snapshots, volumes from snapshots.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import {
  killStratus,
  openstack,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";
import { until } from "../helpers/wait.js";

const CLI = "/usr/bin/openstack";

describe("block storage with the openstack CLI", () => {
  let s: StratusProcess;
  before(async () => {
    if (!existsSync(CLI) && process.env.CI === "true") throw new Error(`${CLI} is missing`);
    s = await startStratus("stratus-e2e-volume-", { configYaml: "volume:\n  backend: fake\n" });
  });
  after(async () => {
    if (s) await terminateStratus(s);
    await killStratus(s);
  });

  const os = async (args: string[], cloud = "stratus-demo", json = true) => {
    const r = await openstack(s, [...args, ...(json ? ["-f", "json"] : [])], cloud);
    assert.equal(r.code, 0, `openstack ${args.join(" ")}: ${r.stderr}`);
    return json && r.stdout.trim() ? JSON.parse(r.stdout) : r.stdout;
  };
  const status = async (kind: "volume" | "volume snapshot", name: string, want: string) =>
    until(
      `${kind} ${name} ${want}`,
      async () => (await os([...kind.split(" "), "show", name])).status === want,
      60_000,
      200,
    );

  test("volumes, types, snapshots and volumes from snapshots", async () => {
    const t = await os(
      ["volume", "type", "create", "--property", "file:format=raw", "--property", "k=v", "e2e-type"],
      "stratus-admin",
    );
    assert.equal(t.name, "e2e-type");
    const made = await os([
      "volume",
      "create",
      "--size",
      "1",
      "--type",
      "e2e-type",
      "--property",
      "a=b",
      "vol1",
    ]);
    assert.equal(made.size, 1);
    await status("volume", "vol1", "available");
    const list = await os(["volume", "list"]);
    assert.ok(list.some((v: any) => v.Name === "vol1" && v.Status === "available"));
    await os(
      ["volume", "set", "--name", "vol1b", "--description", "described", "--property", "c=d", "vol1"],
      "stratus-demo",
      false,
    );
    const shown = await os(["volume", "show", "vol1b"]);
    assert.equal(shown.description, "described");
    assert.equal(shown.type, "e2e-type");
    assert.match(JSON.stringify(shown.properties), /c/);
    await os(["volume", "set", "--size", "2", "vol1b"], "stratus-demo", false);
    await until("extended", async () => (await os(["volume", "show", "vol1b"])).size === 2, 60_000, 200);
    const snap = await os(["volume", "snapshot", "create", "--volume", "vol1b", "snap1"]);
    assert.equal(snap.name, "snap1");
    await status("volume snapshot", "snap1", "available");
    await os(["volume", "create", "--snapshot", "snap1", "--size", "2", "vol2"]);
    await status("volume", "vol2", "available");
    await os(["volume", "snapshot", "delete", "snap1"], "stratus-demo", false);
    await until(
      "snapshot gone",
      async () => !(await os(["volume", "snapshot", "list"])).some((x: any) => x.Name === "snap1"),
      60_000,
      200,
    );
    await os(["volume", "delete", "vol1b", "vol2"], "stratus-demo", false);
    await until("volumes gone", async () => (await os(["volume", "list"])).length === 0, 60_000, 200);
    await os(["volume", "type", "delete", "e2e-type"], "stratus-admin", false);
  });

  test("quota show and limits show ask block storage too", async () => {
    const q = await os(["quota", "show", "demo"], "stratus-admin", false);
    assert.match(String(q), /volumes/);
    assert.match(String(q), /snapshots/);
    const l = await os(["limits", "show", "--absolute"], "stratus-demo", false);
    assert.match(String(l), /maxTotalVolumes/);
  });
});

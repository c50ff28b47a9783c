// The persistent fake host (DATA_DIR/fake-hosts/<host>.json): the driver contract with every "agent restart" a
// new driver read back from the file, what is saved when, refusal of unusable files, and guests that survive a
// process killed with SIGKILL right after an operation returned.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { OperationFailed } from "../../../src/compute/drivers/errors.js";
import {
  FAKE_STATE_FORMAT,
  FakeStateFileError,
  type PersistentFakeDriver,
  fakeStateFile,
  loadFakeState,
  persistentFakeDriver,
} from "../../../src/compute/drivers/fake-persist.js";
import { PowerState, type InstanceSpec } from "../../../src/compute/drivers/types.js";
import { runDriverContract } from "./contract.cases.js";

const image = { id: "c0ffee00-0000-4000-8000-000000000001", format: "qcow2" as const };
const root = mkdtempSync(join(tmpdir(), "stratus-fake-persist-"));
after(() => rmSync(root, { recursive: true, force: true }));

let seq = 0;
const newDir = () => mkdtempSync(join(root, `d${++seq}-`));
const spec = (over: Partial<InstanceSpec> = {}): InstanceSpec => ({
  uuid: randomUUID(),
  name: "vm",
  vcpus: 1,
  memoryMb: 256,
  rootGb: 1,
  image,
  metadata: { k: "v" },
  ...over,
});
const fileDoc = (d: PersistentFakeDriver) => JSON.parse(readFileSync(d.file, "utf8"));

async function open(dir: string, host = "h1", opts = {}): Promise<PersistentFakeDriver> {
  const d = persistentFakeDriver(dir, host, opts);
  await d.init(host);
  return d;
}

runDriverContract("fake (persistent: each restart reads the state file)", {
  image,
  concurrentSpawns: 20,
  newHost() {
    const dir = newDir();
    const hostname = `persist-host-${seq}`;
    return { hostname, openDriver: () => persistentFakeDriver(dir, hostname) };
  },
});

describe("persistent fake host", () => {
  it("a new host writes an empty state file; guests, power states and console come back after a restart", async () => {
    const dir = newDir();
    const d = await open(dir);
    assert.equal(d.file, fakeStateFile(dir, "h1"));
    assert.deepEqual(fileDoc(d), { format: FAKE_STATE_FORMAT, host: "h1", nextVncPort: 5900, instances: [] });
    const a = spec();
    const b = spec({
      networkInfo: [{ id: randomUUID(), address: "fa:16:3e:00:00:09", fixedIps: ["10.0.0.9"] }],
    });
    await d.spawn(a);
    await d.spawn(b);
    await d.powerOff(b.uuid);
    const console = await d.getConsoleOutput(a.uuid);

    const again = await open(dir);
    assert.deepEqual(await again.listInstances(), [a.uuid, b.uuid].sort());
    assert.equal((await again.getInfo(a.uuid)).state, PowerState.RUNNING);
    assert.equal((await again.getInfo(b.uuid)).state, PowerState.SHUTDOWN);
    assert.equal(await again.getConsoleOutput(a.uuid), console);
    assert.deepEqual(again.interfacesOf(b.uuid), b.networkInfo);
    const c = spec();
    await again.spawn(c);
    assert.equal((await again.getVncConsole(c.uuid)).port, 5902, "VNC ports keep counting after a restart");
    await again.destroy(a.uuid);
    assert.deepEqual(
      fileDoc(again).instances.map((r: { spec: InstanceSpec }) => r.spec.uuid),
      [b.uuid, c.uuid].sort(),
    );
    assert.deepEqual(
      readdirSync(dir).filter((n) => n !== "h1.json"),
      [],
      "no temporary files are left",
    );
  });

  it("a spawn is on disk as soon as it has reserved its uuid; a crash mid-build leaves a NOSTATE domain", async () => {
    const dir = newDir();
    const d = await open(dir, "h1", { spawnDelayMs: 200 });
    const s = spec();
    const spawning = d.spawn(s);
    const during = fileDoc(d).instances;
    assert.equal(during.length, 1);
    assert.equal(during[0].building, true);
    const crashed = await open(dir); // the agent died during the spawn; the host's next agent starts
    assert.deepEqual(await crashed.listInstances(), [s.uuid]);
    assert.equal((await crashed.getInfo(s.uuid)).state, PowerState.NOSTATE);
    await spawning;
    assert.equal(fileDoc(d).instances[0].state, PowerState.RUNNING);
  });

  it("a failed operation leaves the saved state as it was", async () => {
    const dir = newDir();
    const d = await open(dir, "h1", { failOperation: (op: string) => op === "powerOff" });
    const s = spec();
    await d.spawn(s);
    const before = readFileSync(d.file, "utf8");
    await assert.rejects(d.powerOff(s.uuid), OperationFailed);
    assert.equal(readFileSync(d.file, "utf8"), before);
  });

  it("refuses another host's file, a corrupt file and a bad host name; removes temporary files of a crash", () => {
    const dir = newDir();
    persistentFakeDriver(dir, "h1");
    writeFileSync(join(dir, "h2.json"), readFileSync(join(dir, "h1.json")));
    assert.throws(
      () => persistentFakeDriver(dir, "h2"),
      (e: Error) => {
        assert.ok(e instanceof FakeStateFileError);
        assert.match(e.message, /belongs to host h1, not h2.*Move it away/);
        return true;
      },
    );
    writeFileSync(join(dir, "h3.json"), "{not json");
    assert.throws(() => loadFakeState(join(dir, "h3.json"), "h3"), /not valid JSON/);
    writeFileSync(join(dir, "h4.json"), JSON.stringify({ format: "other" }));
    assert.throws(() => persistentFakeDriver(dir, "h4"), /stratus-fake-host\/1 format/);
    assert.throws(() => persistentFakeDriver(dir, "../h5"), RangeError);
    writeFileSync(join(dir, "h1.json.tmp-99999"), "partial");
    persistentFakeDriver(dir, "h1");
    assert.ok(!existsSync(join(dir, "h1.json.tmp-99999")));
  });

  it("guests survive a process killed with SIGKILL right after the operation returned", async () => {
    const dir = newDir();
    const uuid = randomUUID();
    const mod = fileURLToPath(new URL("../../../src/compute/drivers/fake-persist.js", import.meta.url));
    const script = `
      const { persistentFakeDriver } = await import(${JSON.stringify(mod)});
      const d = persistentFakeDriver(${JSON.stringify(dir)}, "killed");
      await d.init("killed");
      await d.spawn(${JSON.stringify(spec({ uuid }))});
      await d.pause(${JSON.stringify(uuid)});
      process.kill(process.pid, "SIGKILL");
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "inherit" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const signal = await new Promise((r) => child.on("exit", (_code, sig) => r(sig)));
    clearTimeout(timer);
    assert.equal(signal, "SIGKILL");
    const d = await open(dir, "killed");
    assert.deepEqual(await d.listInstances(), [uuid]);
    assert.equal((await d.getInfo(uuid)).state, PowerState.PAUSED);
  });
});

describe("lazy persistence (stratus up's in-process hosts)", () => {
  it("coalesces saves off the request path and writes them on flush()", async () => {
    const dir = newDir();
    const d = persistentFakeDriver(dir, "lazy1", {}, { lazy: true });
    await d.init("lazy1");
    const s = spec();
    await d.spawn(s);
    assert.ok(!readFileSync(d.file, "utf8").includes(s.uuid), "not written synchronously");
    d.flush();
    assert.ok(readFileSync(d.file, "utf8").includes(s.uuid));
    const again = persistentFakeDriver(dir, "lazy1", {}, { lazy: true });
    await again.init("lazy1");
    assert.deepEqual(await again.listInstances(), [s.uuid]);
  });
});

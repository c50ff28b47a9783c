// `stratus agent volume`: the checks made before anything is opened (backend, database, bus), the CLI's one-line
// refusal, the HTTP image reader it reads images with, and the daemon wipe with a backend that has none.
import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { AgentStartError } from "../../src/cli/agent.js";
import { startVolumeAgentProcess } from "../../src/cli/agent-volume.js";
import { loadConfig } from "../../src/shared/config.js";
import { fakeDriver } from "../../src/volume/drivers/fake.js";
import { wipeVolumeDriver } from "../../src/volume/drivers/configured.js";
import { httpImageReader } from "../../src/volume/images.js";
import { exec, ROOT } from "../helpers/stratus-process.js";

const base = {
  db: "postgresql://u:p@127.0.0.1/x",
  bus: "amqp://u:p@127.0.0.1/v",
  dataDir: "/tmp/stratus-va-unused",
};

const refused = (code: number, re: RegExp) => (e: unknown) =>
  e instanceof AgentStartError && e.code === code && re.test(e.message);

test("an unknown backend, a missing database and an in-process bus are refused before anything opens", async () => {
  await assert.rejects(
    startVolumeAgentProcess({ ...base, volumeBackend: "lvm" }),
    refused(2, /--volume-backend: Unknown volume backend "lvm" \(known: fake, file\)/),
  );
  await assert.rejects(
    startVolumeAgentProcess({ ...base, db: undefined }),
    refused(2, /a volume agent needs the control plane's database/),
  );
  await assert.rejects(
    startVolumeAgentProcess({ ...base, bus: "memory" }),
    refused(2, /a volume agent needs the control plane's message bus/),
  );
});

test("the CLI says what is missing in one line and exits 2", async () => {
  const r = await exec(process.execPath, [join(ROOT, "bin", "stratus"), "agent", "volume", "--host", "s1"], {
    ...process.env,
    STRATUS_DB: "",
    STRATUS_BUS: "",
  });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr.trim(),
    "stratus agent volume: a volume agent needs the control plane's database: pass --db URL (the one `stratus up --db URL` uses)",
  );
});

test("the HTTP image reader: an image's record, its data streamed, and null for a missing one", async () => {
  const data = Buffer.alloc(300_000, 7);
  const seen: string[] = [];
  const srv = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers["x-auth-token"]}`);
    if (req.url === "/image/v2/images/abc")
      res.end(
        JSON.stringify({
          id: "abc",
          status: "active",
          disk_format: "qcow2",
          size: 300000,
          min_disk: 1,
          name: "n",
          os_distro: "x",
        }),
      );
    else if (req.url === "/image/v2/images/abc/file") res.end(data);
    else {
      res.statusCode = 404;
      res.end("no");
    }
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/image`;
    const reader = httpImageReader(
      async () => url,
      async () => "tok",
    );
    const info = await reader.describe("abc");
    assert.deepEqual(info, {
      id: "abc",
      status: "active",
      diskFormat: "qcow2",
      sizeBytes: 300000,
      minDisk: 1,
      properties: { image_name: "n", os_distro: "x", disk_format: "qcow2", size: 300000, min_disk: 1 },
    });
    const chunks: Buffer[] = [];
    for await (const c of await reader.open("abc")) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(data));
    assert.equal(await reader.describe("0000"), null);
    await assert.rejects(reader.open("0000"), /image download answered 404/);
    assert.equal(await reader.describe("../x"), null, "an id that is not one is not asked for");
    assert.ok(seen.every((s) => s.endsWith(" tok")));
  } finally {
    await new Promise((r) => srv.close(r));
  }
});

test("wiping a backend without daemons (fake) stops nothing", async () => {
  const cfg = loadConfig({ dataDir: "/tmp/stratus-va-unused", volume: { backend: "fake" } as never }, {});
  assert.deepEqual(await wipeVolumeDriver(cfg, fakeDriver()), []);
});

// The metadata proxy: the chardev stream parser, a per-instance listener that answers successive requests on
// one stream (as QEMU's guestfwd delivers them) with that instance's data whatever headers the guest sends, and
// a real QEMU connecting its guestfwd chardev to the listener's socket.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { RequestListener } from "node:http";
import { createServer as createHttpServer } from "node:http";
import {
  HttpRequestStream,
  forwardToMetadata,
  listenForInstance,
  metadataGuestfwd,
} from "../../../src/compute/metadata/proxy.js";
import { verifyInstanceId } from "../../../src/compute/metadata/signing.js";

const SECRET = "fedcba9876543210fedcba9876543210";
let dir = "";
let serviceUrl = "";
let close: () => Promise<void> = async () => {};
const seen: Array<Record<string, string | string[] | undefined>> = [];

// A stand-in metadata service that echoes who the verified signature says is calling.
const echo: RequestListener = (req, res) => {
  seen.push(req.headers);
  const id = String(req.headers["x-instance-id"] ?? "");
  const ok = verifyInstanceId(SECRET, id, String(req.headers["x-instance-id-signature"] ?? ""));
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = `${ok ? id : "forged"} ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`;
    res.writeHead(ok ? 200 : 403, { "content-type": "text/plain" });
    res.end(body);
  });
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "stratus-mdp-"));
  const server = createHttpServer(echo);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  serviceUrl = `http://127.0.0.1:${port}`;
  close = () => new Promise<void>((r) => server.close(() => r()));
});

after(async () => {
  await close();
  rmSync(dir, { recursive: true, force: true });
});

test("the stream parser splits requests, keeps bodies, survives garbage and refuses chunked bodies", () => {
  const p = new HttpRequestStream();
  const two =
    "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /openstack/latest/password HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  const items = p.push(Buffer.from(two.slice(0, 20)));
  assert.deepEqual(items, []);
  const rest = p.push(Buffer.from(two.slice(20)));
  assert.deepEqual(rest, [
    { request: { method: "GET", path: "/a" } },
    { request: { method: "POST", path: "/openstack/latest/password", body: Buffer.from("abc") } },
  ]);
  assert.deepEqual(p.push(Buffer.from("\r\nNOT HTTP\r\n\r\n")), [
    { error: 400, message: "Bad request line" },
  ]);
  assert.deepEqual(p.push(Buffer.from("GET /b HTTP/1.0\r\n\r\n")), [
    { request: { method: "GET", path: "/b" } },
  ]);
  assert.equal(
    (p.push(Buffer.from("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"))[0] as { error: number })
      .error,
    400,
  );
  assert.equal((p.push(Buffer.alloc(17 * 1024, 65))[0] as { error: number }).error, 431);
  assert.deepEqual(p.push(Buffer.from("GET /d HTTP/1.1\r\n\r\n")), [
    { request: { method: "GET", path: "/d" } },
  ]);
});

test("forwardToMetadata signs the caller's identity and passes no guest headers", async () => {
  const who = { instanceId: randomUUID(), projectId: "p1", address: "169.254.169.15" };
  const r = await forwardToMetadata({ serviceUrl, secret: SECRET }, who, {
    method: "GET",
    path: "/latest/meta-data/",
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), `${who.instanceId} GET /latest/meta-data/ `);
  const h = seen.at(-1)!;
  assert.equal(h["x-tenant-id"], "p1");
  assert.equal(h["x-forwarded-for"], "169.254.169.15");
});

test("forwardToMetadata sends a path starting with // to the service, not to the host it names", async () => {
  const who = { instanceId: randomUUID(), projectId: "p1" };
  const r = await forwardToMetadata({ serviceUrl, secret: SECRET }, who, {
    method: "GET",
    path: "//elsewhere.invalid/latest/meta-data/",
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), `${who.instanceId} GET //elsewhere.invalid/latest/meta-data/ `);
});

/** Read `n` HTTP responses (each with Content-Length) from a socket. */
function readResponses(s: Socket, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: string[] = [];
    s.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        out.push(`${head.split("\r\n")[0]}|${buf.subarray(end + 4, end + 4 + len).toString()}`);
        assert.match(head, /Connection: close/);
        buf = buf.subarray(end + 4 + len);
        if (out.length === n) resolve(out);
      }
    });
    s.on("error", reject);
  });
}

test("a per-instance socket answers successive requests as that instance, whatever the guest claims", async () => {
  const me = randomUUID();
  const other = randomUUID();
  const path = join(dir, "md-1.sock");
  const l = await listenForInstance(
    { serviceUrl, secret: SECRET },
    { instanceId: me, projectId: "p1" },
    { path },
  );
  try {
    const s = createConnection(path);
    const replies = readResponses(s, 3);
    s.write(
      "GET /openstack/latest/meta_data.json HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n\r\n",
    );
    s.write(
      `GET /latest/meta-data/instance-id HTTP/1.1\r\nX-Instance-ID: ${other}\r\nX-Tenant-ID: p2\r\n` +
        `X-Instance-ID-Signature: ${"0".repeat(64)}\r\n\r\n`,
    );
    s.write("POST /openstack/latest/password HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    const got = await replies;
    assert.deepEqual(got, [
      `HTTP/1.1 200 OK|${me} GET /openstack/latest/meta_data.json `,
      `HTTP/1.1 200 OK|${me} GET /latest/meta-data/instance-id `,
      `HTTP/1.1 200 OK|${me} POST /openstack/latest/password hello`,
    ]);
    assert.equal(seen.at(-2)!["x-tenant-id"], "p1", "the guest's X-Tenant-ID is not passed on");
    assert.equal(seen.at(-1)!["x-forwarded-for"], "169.254.169.15");
    s.destroy();
  } finally {
    await l.close();
  }
});

test("the proxy answers 502 when the metadata service is down", async () => {
  const path = join(dir, "md-2.sock");
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, "127.0.0.1", () => r()));
  const port = (dead.address() as { port: number }).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const l = await listenForInstance(
    { serviceUrl: `http://127.0.0.1:${port}`, secret: SECRET },
    { instanceId: randomUUID(), projectId: "p" },
    { path },
  );
  try {
    const s = createConnection(path);
    const replies = readResponses(s, 1);
    s.write("GET / HTTP/1.1\r\n\r\n");
    assert.match((await replies)[0]!, /^HTTP\/1.1 502 /);
    s.destroy();
  } finally {
    await l.close();
  }
});

const qemu = spawnSync("qemu-system-x86_64", ["--version"], { encoding: "utf8" });
const noQemu = qemu.error ? "qemu-system-x86_64 is not installed (Debian package qemu-system-x86)" : false;

test(
  "QEMU accepts the guestfwd rule and connects its chardev to the instance's socket",
  { skip: noQemu },
  async () => {
    const path = join(dir, "md-q.sock");
    let connected!: () => void;
    const didConnect = new Promise<void>((r) => (connected = r));
    const server = createServer((s) => {
      connected();
      s.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(path, () => r()));
    const fwd = metadataGuestfwd("md0", path);
    const proc = spawn(
      "qemu-system-x86_64",
      [
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-S",
        "-machine",
        "accel=tcg",
        "-chardev",
        fwd.chardev,
        "-netdev",
        `user,id=n0,restrict=on,${fwd.netdevOptions}`,
        "-device",
        "virtio-net-pci,netdev=n0",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    proc.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
    try {
      const first = await Promise.race([didConnect.then(() => "connected"), exited.then(() => "exited")]);
      assert.equal(first, "connected", `QEMU exited: ${stderr}`);
    } finally {
      proc.kill("SIGKILL");
      await exited;
      await new Promise<void>((r) => server.close(() => r()));
    }
  },
);

test("metadataGuestfwd refuses ids and paths that would inject QEMU options", () => {
  assert.throws(() => metadataGuestfwd("md0,x=y", "/tmp/s"));
  assert.throws(() => metadataGuestfwd("md0", "/tmp/a,server=on"));
  assert.deepEqual(metadataGuestfwd("md0", "/run/x.sock"), {
    chardev: "socket,id=md0,path=/run/x.sock,reconnect=1",
    netdevOptions: "net=169.254.169.0/24,guestfwd=tcp:169.254.169.254:80-chardev:md0",
  });
});

// The metadata path without a kernel: the in-namespace proxy's server on loopback forwarding to the host-side agent
// on a unix socket, the agent looking the caller up (a stand-in lookup) and signing it to a stand-in metadata service
// that verifies the signature. What a guest sends as identity is ignored; unknown callers get 404; limits hold.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pino from "pino";
import { verifyInstanceId } from "../../../src/compute/metadata/signing.js";
import { startMetadataAgent, type MetadataAgent } from "../../../src/network/metadata/agent.js";
import type { MetadataCaller } from "../../../src/network/metadata/lookup.js";
import { createNsProxyServer } from "../../../src/network/metadata/ns-proxy-server.js";
import { nobodyUser } from "../../../src/network/metadata/proxies.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const log = pino({ level: "silent" });
let dir = "";
let service: Server;
let serviceUrl = "";
let agent: MetadataAgent;
let serviceUp = true;
const servers: Server[] = [];
const callers = new Map<string, MetadataCaller>([
  ["net-1 127.0.0.1", { instanceId: "inst-a", projectId: "proj-a" }],
]);

/** Reply of a request: status, headers, body text. */
interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function call(
  port: number,
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const r = request(
      { host: "127.0.0.1", port, path, method: o.method ?? "GET", headers: o.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    r.on("error", reject);
    r.end(o.body);
  });
}

/** A proxy for `networkId` on a loopback port (as the namespace's 169.254.169.254:80 would be). */
async function proxy(networkId: string, socketPath = agent.socketPath, limits = {}): Promise<number> {
  const s = createNsProxyServer({ networkId, socketPath, limits });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  return (s.address() as { port: number }).port;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "stratus-nsmd-"));
  // The stand-in metadata service: says whom the verified signature names, and what else came with it.
  service = createServer((req, res) => {
    const id = String(req.headers["x-instance-id"] ?? "");
    const ok = verifyInstanceId(SECRET, id, String(req.headers["x-instance-id-signature"] ?? ""));
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(ok ? 200 : 403, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          instance: ok ? id : "forged",
          tenant: req.headers["x-tenant-id"],
          forwarded: req.headers["x-forwarded-for"],
          network: req.headers["x-neutron-network-id"] ?? null,
          method: req.method,
          path: req.url,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
  });
  await new Promise<void>((r) => service.listen(0, "127.0.0.1", () => r()));
  serviceUrl = `http://127.0.0.1:${(service.address() as { port: number }).port}`;
  agent = await startMetadataAgent({
    socketPath: join(dir, "agent", "metadata.sock"),
    lookup: async (net, ip) => callers.get(`${net} ${ip}`) ?? null,
    target: () => (serviceUp ? { url: serviceUrl, secret: SECRET } : undefined),
    log,
  });
});

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await agent?.close();
  service?.closeAllConnections();
  await new Promise((r) => service?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test("the agent's socket is root's alone (0600) when no proxy group is given", () => {
  assert.equal(statSync(agent.socketPath).mode & 0o777, 0o600);
});

test("a request is served as the instance holding the caller's address; forged identity headers are ignored", async () => {
  const port = await proxy("net-1");
  const r = await call(port, "/openstack/latest/meta_data.json", {
    headers: {
      "X-Instance-ID": "inst-b",
      "X-Instance-ID-Signature": "0".repeat(64),
      "X-Tenant-ID": "proj-b",
      "X-Forwarded-For": "10.0.0.99",
      "X-Neutron-Network-ID": "net-2",
    },
  });
  assert.equal(r.status, 200, r.text);
  const body = JSON.parse(r.text);
  assert.deepEqual(body, {
    instance: "inst-a",
    tenant: "proj-a",
    forwarded: "127.0.0.1",
    network: null,
    method: "GET",
    path: "/openstack/latest/meta_data.json",
    body: "",
  });
});

test("a POST body (the password) passes through", async () => {
  const port = await proxy("net-1");
  const r = await call(port, "/openstack/latest/password", {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: "enc-pw",
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text).body, "enc-pw");
});

test("a path naming a host (//host/x) still goes to the metadata service", async () => {
  const port = await proxy("net-1");
  const r = await call(port, "//elsewhere.invalid/openstack");
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text).path, "//elsewhere.invalid/openstack");
});

test("a caller no instance owns gets the metadata service's 404", async () => {
  const port = await proxy("net-unknown");
  const r = await call(port, "/openstack/latest/meta_data.json", { headers: { "X-Instance-ID": "inst-a" } });
  assert.equal(r.status, 404);
  assert.equal(r.text, "404 The resource could not be found.\n");
});

test("oversized requests are refused: body by length (413), chunked body (413), headers (431)", async () => {
  const port = await proxy("net-1");
  const big = await call(port, "/openstack/latest/password", {
    method: "POST",
    body: Buffer.alloc(70 * 1024),
  });
  assert.equal(big.status, 413);
  const chunked = await new Promise<number>((resolve, reject) => {
    const r = request({ host: "127.0.0.1", port, path: "/x", method: "POST" }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.on("error", reject);
    for (let i = 0; i < 20; i++) r.write(Buffer.alloc(8 * 1024));
    r.end();
  });
  assert.equal(chunked, 413);
  const headers = await call(port, "/x", { headers: { "x-big": "a".repeat(20 * 1024) } });
  assert.equal(headers.status, 431);
});

test("only origin-form request targets are accepted (not an open proxy)", async () => {
  const port = await proxy("net-1");
  const text = await new Promise<string>((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () =>
      s.write("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"),
    );
    let out = "";
    s.on("data", (d) => (out += String(d)));
    s.on("close", () => resolve(out));
    s.on("error", reject);
  });
  assert.match(text, /^HTTP\/1\.1 400 /);
});

test("concurrent connections are bounded", async () => {
  const port = await proxy("net-1", agent.socketPath, { maxConnections: 2 });
  const open = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<ReturnType<typeof connect>>((resolve) => {
          const s = connect(port, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  // Wait until the server counts both, then a third is closed without an answer.
  const server = servers[servers.length - 1]!;
  for (;;) {
    const n = await new Promise<number>((r) => server.getConnections((_e, c) => r(c)));
    if (n === 2) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const third = await new Promise<string>((resolve) => {
    const s = connect(port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    let out = "";
    s.on("data", (d) => (out += String(d)));
    s.on("close", () => resolve(out));
    s.on("error", () => resolve(out));
  });
  assert.equal(third, "");
  for (const s of open) s.destroy();
});

test("no agent: 502; no metadata service yet: 503; a request without the proxy's headers: 400", async () => {
  const port = await proxy("net-1", join(dir, "nothing.sock"));
  assert.equal((await call(port, "/openstack")).status, 502);
  serviceUp = false;
  try {
    const r = await call(await proxy("net-1"), "/openstack");
    assert.equal(r.status, 503);
  } finally {
    serviceUp = true;
  }
  const direct = await new Promise<number>((resolve, reject) => {
    const r = request({
      socketPath: agent.socketPath,
      path: "/openstack",
      headers: { "X-Instance-ID": "inst-a" },
    });
    r.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.on("error", reject);
    r.end();
  });
  assert.equal(direct, 400);
});

test("the proxies' default user is nobody from the passwd file, else 65534", () => {
  const file = join(dir, "passwd");
  writeFileSync(file, "root:x:0:0:root:/root:/bin/sh\nnobody:x:99:98:nobody:/:/sbin/nologin\n");
  assert.deepEqual(nobodyUser(file), { uid: 99, gid: 98 });
  assert.deepEqual(nobodyUser(join(dir, "missing")), { uid: 65534, gid: 65534 });
});

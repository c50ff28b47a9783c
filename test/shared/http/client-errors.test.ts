// Errors raised below the routes (Node's HTTP parser: oversized headers or URL, a body shorter than its
// Content-Length; fastify: unknown routes, methods, oversized or malformed bodies) are answered in the error format
// of the service whose prefix the URL names, over a real socket.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { formatComputeError } from "../../../src/compute/errors.js";
import { formatIdentityError } from "../../../src/identity/errors.js";
import { formatImageError } from "../../../src/image/errors.js";
import { formatPlacementError } from "../../../src/placement/errors.js";
import { route } from "../../../src/shared/http/route.js";
import { buildHttpServer } from "../../../src/shared/http/server.js";
import type { ServiceApi } from "../../../src/shared/http/service.js";
import { PolicyEnforcer } from "../../../src/shared/policy/index.js";

let app: FastifyInstance;
let port = 0;
const logged: any[] = [];

const routes = () => [
  route({
    method: "POST",
    path: "/things",
    policy: null,
    body: Type.Object({ thing: Type.Object({}) }),
    handler: (c) => c.body,
  }),
  route({ method: "GET", path: "/things", policy: null, handler: () => ({ things: [] }) }),
];
const svc = (
  name: string,
  prefix: string,
  formatError: ServiceApi["formatError"],
  more = {},
): ServiceApi => ({
  name,
  serviceType: name,
  prefix,
  formatError,
  routes: routes(),
  ...more,
});

before(async () => {
  const log = pino({ level: "warn" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  app = await buildHttpServer(
    [
      svc("identity", "/identity", formatIdentityError),
      svc("image", "/image", formatImageError),
      svc("placement", "/placement", formatPlacementError),
      svc("compute", "/compute", formatComputeError, { requestIdHeaders: ["x-compute-request-id"] }),
    ],
    {
      validator: { validate: async () => null as never },
      policy: new PolicyEnforcer([]),
      log: log as unknown as Logger,
      bodyLimit: 1024,
    },
  );
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as { port: number }).port;
});
after(() => app.close());

interface Raw {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Send raw bytes (then half-close), and read the whole answer until the server closes or the answer is complete. */
function raw(bytes: string, halfClose = false): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const done = () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [head, ...rest] = text.split("\r\n\r\n");
      const lines = head.split("\r\n");
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      resolve({ status: Number(lines[0].split(" ")[1]), headers, body: rest.join("\r\n\r\n") });
    };
    sock.on("data", (c) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString("utf8");
      const at = text.indexOf("\r\n\r\n");
      const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, at));
      if (at >= 0 && len && Buffer.byteLength(text.slice(at + 4)) >= Number(len[1])) {
        sock.destroy();
        done();
      }
    });
    sock.on("end", done);
    sock.on("error", reject);
    sock.write(bytes, () => {
      if (halfClose) sock.end();
    });
  });
}

const json = (r: Raw): any => JSON.parse(r.body);
const isIdentity = (r: Raw, code: number) => json(r).error?.code === code && !!json(r).error.message;
const isPlacement = (r: Raw, code: number) =>
  json(r).errors?.[0]?.status === code && !!json(r).errors[0].detail;
const isCompute = (r: Raw, code: number) => {
  const b = json(r);
  const keys = Object.keys(b);
  return keys.length === 1 && b[keys[0]].code === code && !!b[keys[0]].message;
};
const isImage = (r: Raw, code: number) =>
  r.body.includes(`${code} `) && /^text\/html/.test(r.headers.get("content-type") ?? "");
const FORMATS: Array<[string, (r: Raw, code: number) => boolean]> = [
  ["/identity", isIdentity],
  ["/image", isImage],
  ["/placement", isPlacement],
  ["/compute", isCompute],
];

describe("errors from Node's HTTP parser are in the service's format", () => {
  test("headers larger than the server accepts: 431", async () => {
    for (const [prefix, ok] of FORMATS) {
      const r = await raw(`GET ${prefix}/things HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
      assert.equal(r.status, 431, `${prefix}: ${r.body}`);
      assert.ok(ok(r, 431), `${prefix}: ${r.body}`);
      assert.match(r.headers.get("x-openstack-request-id") ?? "", /^req-/);
    }
  });

  test("a URL larger than the server accepts: 431", async () => {
    for (const [prefix, ok] of FORMATS) {
      const r = await raw(`GET ${prefix}/things?q=${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(r.status, 431, `${prefix}: ${r.body}`);
      assert.ok(ok(r, 431), `${prefix}: ${r.body}`);
    }
  });

  test("a body shorter than its Content-Length: 400", async () => {
    for (const [prefix, ok] of FORMATS) {
      const r = await raw(
        `POST ${prefix}/things HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"thing": {}}`,
        true,
      );
      assert.equal(r.status, 400, `${prefix}: ${r.body}`);
      assert.ok(ok(r, 400), `${prefix}: ${r.body}`);
    }
  });

  test("a request that is not HTTP at all: 400 in the root's format", async () => {
    const r = await raw("NOT HTTP\r\n\r\n");
    assert.equal(r.status, 400, r.body);
    assert.equal(json(r).error.code, 400);
  });

  test("the compute service also sends x-compute-request-id", async () => {
    const r = await raw(`GET /compute/things HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    assert.equal(r.headers.get("x-compute-request-id"), r.headers.get("x-openstack-request-id"));
  });
});

describe("errors from the framework are in the service's format", () => {
  const send = (prefix: string, method: string, path: string, headers: string, body = "") =>
    raw(
      `${method} ${prefix}${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  test("unknown route, unknown method, too large, bad JSON, too deep, wrong media type", async () => {
    for (const [prefix, ok] of FORMATS) {
      const cases: Array<[number, Promise<Raw>]> = [
        [404, send(prefix, "GET", "/nothing-here", "")],
        [404, send(prefix, "PROPFIND", "/things", "")],
        [413, send(prefix, "POST", "/things", "Content-Type: application/json\r\n", "x".repeat(2000))],
        [400, send(prefix, "POST", "/things", "Content-Type: application/json\r\n", "{nope")],
        [400, send(prefix, "POST", "/things", "Content-Type: application/json\r\n", "[".repeat(200))],
        [415, send(prefix, "POST", "/things", "Content-Type: application/octet-stream\r\n", "{}")],
      ];
      for (const [code, p] of cases) {
        const r = await p;
        assert.equal(r.status, code, `${prefix} ${code}: ${r.body}`);
        assert.ok(ok(r, code), `${prefix} ${code}: ${r.body}`);
      }
    }
    assert.deepEqual(
      logged.filter((l) => l.msg === "unhandled error"),
      [],
    );
  });
});

// The shared HTTP framework (routes as data): authentication order, query normalisation, router-level errors,
// HEAD handling, replies, policy targets and error rendering.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import type { AuthContext } from "../../../src/shared/auth/context.js";
import { formatIdentityError } from "../../../src/identity/errors.js";
import { ApiError, conflict } from "../../../src/shared/http/errors.js";
import { noContent, reply, stream } from "../../../src/shared/http/reply.js";
import { route } from "../../../src/shared/http/route.js";
import { buildHttpServer } from "../../../src/shared/http/server.js";
import { nextLink, parsePage, requestOrigin } from "../../../src/shared/http/pagination.js";
import { compileValidator, describeValidationError } from "../../../src/shared/http/validation.js";
import { PolicyEnforcer } from "../../../src/shared/policy/index.js";

const REQ_ID = /^req-[0-9a-f-]{36}$/;

function caller(over: Partial<AuthContext> = {}): AuthContext {
  return {
    token: "t",
    userId: "u1",
    userName: "u",
    userDomainId: "default",
    userDomainName: "Default",
    projectId: "p1",
    projectName: "p",
    projectDomainId: "default",
    projectDomainName: "Default",
    domainId: null,
    domainName: null,
    system: false,
    roles: ["member"],
    roleIds: ["r1"],
    isAdminProject: false,
    methods: ["password"],
    auditIds: ["a"],
    issuedAt: Date.now(),
    expiresAt: Date.now() + 60_000,
    appCredId: null,
    accessRules: null,
    ...over,
  };
}

let app: FastifyInstance;
const handled: string[] = [];
const errors: unknown[] = [];
let validations = 0;

before(async () => {
  const log = pino({ level: "error" }, { write: (line: string) => void errors.push(JSON.parse(line)) });
  app = await buildHttpServer(
    [
      {
        name: "identity",
        serviceType: "identity",
        prefix: "/svc",
        formatError: formatIdentityError,
        routes: [
          route({
            method: "POST",
            path: "/things",
            policy: "svc:create",
            body: Type.Object(
              {
                thing: Type.Object({ name: Type.String({ maxLength: 5 }) }, { additionalProperties: false }),
              },
              { additionalProperties: false },
            ),
            handler: (c) => {
              handled.push("create");
              return reply(201, { thing: c.body.thing });
            },
          }),
          route({
            method: "GET",
            path: "/things/:id",
            policy: "svc:get",
            target: (c) => ({ owner: c.params.id }),
            handler: (c) => ({ id: c.params.id }),
          }),
          route({
            method: "GET",
            path: "/query",
            policy: null,
            auth: "none",
            handler: (c) => ({ query: c.query }),
          }),
          route({
            method: "GET",
            path: "/typed",
            policy: null,
            auth: "none",
            query: Type.Object({ n: Type.Optional(Type.Integer()) }, { additionalProperties: true }),
            handler: (c) => ({ query: c.query }),
          }),
          route({
            method: "GET",
            path: "/optional",
            policy: null,
            auth: "optional",
            handler: (c) => ({ user: c.auth?.userId ?? null }),
          }),
          route({
            method: "GET",
            path: "/open",
            policy: null,
            auth: "none",
            handler: (c) => ({ user: c.auth?.userId ?? null, headers: c.headers }),
          }),
          route({
            method: "GET",
            path: "/inline",
            policy: null,
            auth: "required",
            handler: (c) => {
              c.authorize("svc:admin");
              return { ok: true };
            },
          }),
          route({
            method: "GET",
            path: "/reply",
            policy: null,
            auth: "none",
            handler: () => reply(202, { accepted: true }, { location: "http://x/y" }),
          }),
          route({
            method: "DELETE",
            path: "/reply",
            policy: null,
            auth: "none",
            handler: () => noContent({ "x-extra": "1" }),
          }),
          route({
            method: "GET",
            path: "/stream",
            policy: null,
            auth: "none",
            handler: () => stream(200, Readable.from(["a", "b"]), { "content-type": "text/plain" }),
          }),
          route({
            method: "GET",
            path: "/conflict",
            policy: null,
            auth: "none",
            handler: () => {
              throw conflict("taken");
            },
          }),
          route({
            method: "GET",
            path: "/crash",
            policy: null,
            auth: "none",
            handler: () => {
              throw new Error("internal detail: password=hunter2");
            },
          }),
          route({
            method: ["GET", "HEAD"],
            path: "/explicit-head",
            policy: null,
            auth: "none",
            handler: (c) => (c.method === "HEAD" ? noContent() : { body: true }),
          }),
          route({
            method: "PUT",
            path: "/json-only",
            policy: null,
            auth: "none",
            body: Type.Object({}, { additionalProperties: true }),
            handler: () => noContent(),
          }),
          route({ method: "GET", path: "/restricted", policy: "svc:any", handler: () => ({ ok: true }) }),
        ],
      },
    ],
    {
      validator: {
        validate: async (t: string) => {
          validations++;
          if (t === "member") return caller();
          if (t === "admin") return caller({ userId: "u2", roles: ["admin"] });
          if (t === "restricted")
            return caller({ accessRules: [{ service: "identity", path: "/things/*", method: "GET" }] });
          throw new ApiError(401, "The request you have made requires authentication.");
        },
      },
      policy: new PolicyEnforcer([
        { name: "svc:create", check: "role:member", description: "" },
        { name: "svc:get", check: "role:admin or user_id:%(owner)s", description: "" },
        { name: "svc:admin", check: "role:admin", description: "" },
        { name: "svc:any", check: "", description: "" },
      ]),
      log: log as unknown as Logger,
      bodyLimit: 1024,
    },
  );
  await app.ready();
});
after(() => app.close());

const inject = (
  method: string,
  url: string,
  o: { token?: string; body?: string; headers?: Record<string, string> } = {},
) =>
  app.inject({
    method: method as "GET",
    url,
    headers: {
      ...(o.token ? { "x-auth-token": o.token } : {}),
      ...(o.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(o.headers ?? {}),
    },
    ...(o.body !== undefined ? { payload: o.body } : {}),
  });
const json = (r: { payload: string }) => JSON.parse(r.payload);

describe("authentication comes first", () => {
  test("no token: 401 whatever the body (invalid, malformed JSON, too large)", async () => {
    handled.length = 0;
    for (const body of ['{"thing": {"name": "far too long"}}', "{not json", "x".repeat(5000), ""]) {
      const r = await inject("POST", "/svc/things", { body });
      assert.equal(r.statusCode, 401, body.slice(0, 20));
      assert.deepEqual(json(r), {
        error: {
          code: 401,
          title: "Unauthorized",
          message: "The request you have made requires authentication.",
        },
      });
      assert.match(String(r.headers["x-openstack-request-id"]), REQ_ID);
      assert.match(String(r.headers["www-authenticate"]), /^Keystone uri=/);
    }
    assert.deepEqual(handled, []);
  });

  test("a bad token is 401 before the body is looked at", async () => {
    const r = await inject("POST", "/svc/things", { token: "bogus", body: "{not json" });
    assert.equal(r.statusCode, 401);
  });

  test("with a good token, validation and policy apply", async () => {
    const bad = await inject("POST", "/svc/things", {
      token: "member",
      body: '{"thing": {"name": "far too long"}}',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(json(bad).error.message, /thing\.name/);
    const broken = await inject("POST", "/svc/things", { token: "member", body: "{not json" });
    assert.equal(broken.statusCode, 400);
    const big = await inject("POST", "/svc/things", {
      token: "member",
      body: JSON.stringify({ thing: { name: "x".repeat(5000) } }),
    });
    assert.equal(big.statusCode, 413);
    const ok = await inject("POST", "/svc/things", { token: "member", body: '{"thing": {"name": "ok"}}' });
    assert.equal(ok.statusCode, 201);
    assert.deepEqual(json(ok), { thing: { name: "ok" } });
  });

  test("the token is validated once per request", async () => {
    validations = 0;
    await inject("POST", "/svc/things", { token: "member", body: '{"thing": {"name": "ok"}}' });
    assert.equal(validations, 1);
  });

  test("optional auth: no token is anonymous, a bad token is 401", async () => {
    assert.deepEqual(json(await inject("GET", "/svc/optional")), { user: null });
    assert.deepEqual(json(await inject("GET", "/svc/optional", { token: "member" })), { user: "u1" });
    assert.equal((await inject("GET", "/svc/optional", { token: "bogus" })).statusCode, 401);
  });

  test("auth none: the token is not even looked at", async () => {
    validations = 0;
    const r = await inject("GET", "/svc/open", { token: "bogus" });
    assert.equal(r.statusCode, 200);
    assert.equal(json(r).user, null);
    assert.equal(validations, 0);
  });

  test("identity headers from the client are stripped before anything sees them", async () => {
    const r = await inject("GET", "/svc/open", {
      headers: {
        "x-roles": "admin",
        "x-user-id": "u2",
        "x-identity-status": "Confirmed",
        "x-project-id": "p",
        "x-subject-token": "s",
      },
    });
    const h = json(r).headers;
    for (const k of ["x-roles", "x-user-id", "x-identity-status", "x-project-id"]) assert.ok(!(k in h), k);
    assert.equal(h["x-subject-token"], "s");
  });
});

describe("policy", () => {
  test("route targets feed the policy check", async () => {
    assert.equal((await inject("GET", "/svc/things/u1", { token: "member" })).statusCode, 200);
    const r = await inject("GET", "/svc/things/someone-else", { token: "member" });
    assert.equal(r.statusCode, 403);
    assert.equal(json(r).error.title, "Forbidden");
    assert.equal((await inject("GET", "/svc/things/someone-else", { token: "admin" })).statusCode, 200);
  });

  test("ctx.authorize in a handler: 403 for the wrong role", async () => {
    assert.equal((await inject("GET", "/svc/inline", { token: "member" })).statusCode, 403);
    assert.equal((await inject("GET", "/svc/inline", { token: "admin" })).statusCode, 200);
    assert.equal((await inject("GET", "/svc/inline")).statusCode, 401);
  });

  test("application-credential access rules restrict the paths a token may call", async () => {
    assert.equal((await inject("GET", "/svc/things/u1", { token: "restricted" })).statusCode, 200);
    assert.equal((await inject("GET", "/svc/restricted", { token: "restricted" })).statusCode, 403);
  });
});

describe("query strings", () => {
  test("repeated parameters collapse to the first value for routes without a query schema", async () => {
    const r = await inject("GET", "/svc/query?a=1&a=2&b=x&c=");
    assert.equal(r.statusCode, 200);
    assert.deepEqual(json(r).query, { a: "1", b: "x", c: "" });
  });

  test("routes with a query schema get coerced, validated values", async () => {
    assert.deepEqual(json(await inject("GET", "/svc/typed?n=5")).query, { n: 5 });
    const bad = await inject("GET", "/svc/typed?n=five");
    assert.equal(bad.statusCode, 400);
    assert.equal(json(bad).error.code, 400);
  });
});

describe("router-level errors use the service's format", () => {
  test("an undecodable URL is 400 with a request id", async () => {
    const r = await inject("GET", "/svc/things/%ZZ", { token: "member" });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(json(r), {
      error: { code: 400, title: "Bad Request", message: "The request URL is not valid." },
    });
    assert.match(String(r.headers["x-openstack-request-id"]), REQ_ID);
  });

  test("an over-long path parameter is a 404 that does not echo the path", async () => {
    const long = "x".repeat(3000);
    const r = await inject("GET", `/svc/things/${long}`, { token: "member" });
    assert.equal(r.statusCode, 404);
    assert.ok(!r.payload.includes(long));
    assert.equal(json(r).error.code, 404);
    assert.match(String(r.headers["x-openstack-request-id"]), REQ_ID);
  });

  test("outside every service, a plain JSON error", async () => {
    const r = await inject("GET", "/elsewhere/%ZZ");
    assert.equal(r.statusCode, 400);
    assert.equal(json(r).error.code, 400);
  });

  test("unknown paths under a service are that service's 404", async () => {
    const r = await inject("GET", "/svc/nothing/here");
    assert.equal(r.statusCode, 404);
    assert.deepEqual(json(r), {
      error: { code: 404, title: "Not Found", message: "The resource could not be found." },
    });
    assert.match(String(r.headers["x-openstack-request-id"]), REQ_ID);
  });
});

describe("replies and errors", () => {
  test("reply() sets status and headers; noContent() is an empty 204", async () => {
    const r = await inject("GET", "/svc/reply");
    assert.equal(r.statusCode, 202);
    assert.equal(r.headers.location, "http://x/y");
    assert.deepEqual(json(r), { accepted: true });
    const d = await inject("DELETE", "/svc/reply");
    assert.equal(d.statusCode, 204);
    assert.equal(d.payload, "");
    assert.equal(d.headers["x-extra"], "1");
  });

  test("streams are sent as they are", async () => {
    const r = await inject("GET", "/svc/stream");
    assert.equal(r.statusCode, 200);
    assert.equal(r.payload, "ab");
    assert.match(String(r.headers["content-type"]), /^text\/plain/);
  });

  test("GET routes answer HEAD without a body; explicit HEAD handlers win", async () => {
    const h = await inject("HEAD", "/svc/reply");
    assert.equal(h.statusCode, 202);
    assert.equal(h.payload, "");
    assert.equal((await inject("HEAD", "/svc/explicit-head")).statusCode, 204);
    assert.equal((await inject("GET", "/svc/explicit-head")).statusCode, 200);
  });

  test("ApiErrors are rendered in the service's format", async () => {
    const r = await inject("GET", "/svc/conflict");
    assert.equal(r.statusCode, 409);
    assert.deepEqual(json(r), { error: { code: 409, title: "Conflict", message: "taken" } });
  });

  test("other errors are a 500 that hides the details, logged with the request id", async () => {
    errors.length = 0;
    const r = await inject("GET", "/svc/crash");
    assert.equal(r.statusCode, 500);
    assert.ok(!r.payload.includes("hunter2") && !r.payload.includes("internal detail"));
    assert.equal(json(r).error.code, 500);
    const id = r.headers["x-openstack-request-id"];
    assert.ok(errors.some((e) => (e as { requestId?: string }).requestId === id));
  });

  test("a non-JSON content type on a JSON route is refused, even when the schema is open", async () => {
    for (const type of ["application/x-www-form-urlencoded", "text/plain", "application/octet-stream"]) {
      const r = await inject("PUT", "/svc/json-only", { body: "a=b", headers: { "content-type": type } });
      // 415 for raw bodies; text/plain is parsed as a string, which the object schema rejects with a 400.
      assert.ok([400, 415].includes(r.statusCode), `${type}: ${r.statusCode}`);
      assert.equal(json(r).error.code, r.statusCode);
    }
    assert.equal((await inject("PUT", "/svc/json-only", { body: '{"a": "b"}' })).statusCode, 204);
  });

  test("every answer has its own request id", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++)
      ids.add(String((await inject("GET", "/svc/query")).headers["x-openstack-request-id"]));
    assert.equal(ids.size, 20);
  });
});

describe("helpers", () => {
  test("parsePage caps the limit and rejects bad ones", () => {
    assert.deepEqual(parsePage({}), { limit: 1000, marker: undefined });
    assert.deepEqual(parsePage({ limit: "5", marker: "m" }), { limit: 5, marker: "m" });
    assert.equal(parsePage({ limit: "5000" }, 100).limit, 100);
    for (const bad of ["-1", "x", "1.5"])
      assert.throws(
        () => parsePage({ limit: bad }),
        (e: ApiError) => e.status === 400,
      );
  });

  test("requestOrigin honours X-Forwarded-Proto/Host (first value) and falls back to Host", () => {
    assert.equal(requestOrigin({ host: "h:1" }, "fallback"), "http://h:1");
    assert.equal(
      requestOrigin(
        { host: "h:1", "x-forwarded-proto": "https, http", "x-forwarded-host": "a.example, b" },
        "f",
      ),
      "https://a.example",
    );
    assert.equal(requestOrigin({}, "fallback:9"), "http://fallback:9");
  });

  test("nextLink keeps other parameters and replaces marker and limit", () => {
    const link = nextLink(
      "http://h/v3/things",
      { name: "x", marker: "old", limit: "2", tag: ["a", "b"] },
      "new",
      2,
    );
    const u = new URL(link);
    assert.equal(u.searchParams.get("marker"), "new");
    assert.equal(u.searchParams.get("limit"), "2");
    assert.equal(u.searchParams.get("name"), "x");
    assert.deepEqual(u.searchParams.getAll("tag"), ["a", "b"]);
  });

  test("validation messages name the field, OpenStack style", () => {
    const v = compileValidator(
      Type.Object(
        { a: Type.Object({ b: Type.String({ maxLength: 2 }) }, { additionalProperties: false }) },
        { additionalProperties: false },
      ),
      "body",
    );
    assert.equal(v({ a: { b: "long" } }), false);
    assert.match(
      describeValidationError(v.errors, "body"),
      /^Invalid input for field 'a\.b': value is too long/,
    );
    assert.equal(v({ a: { b: "ok", c: 1 } }), false);
    assert.match(describeValidationError(v.errors, "body"), /'c' was unexpected/);
    assert.equal(v({}), false);
    assert.match(describeValidationError(v.errors, "body"), /'a' is a required property/);
    assert.equal(describeValidationError(null, "body"), "Invalid input.");
  });
});

import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import pino from "pino";
import { ApiError } from "../../../src/shared/http/errors.js";
import {
  keystoneError,
  neutronError,
  novaError,
  placementError,
} from "../../../src/shared/http/error-formats.js";
import {
  Microversion,
  negotiate,
  responseHeaders,
  type MicroversionSpec,
} from "../../../src/shared/http/microversion.js";
import { nextLink, parsePage, requestOrigin } from "../../../src/shared/http/pagination.js";
import { buildHttpServer } from "../../../src/shared/http/server.js";
import { reply } from "../../../src/shared/http/reply.js";
import { route } from "../../../src/shared/http/route.js";
import { PolicyEnforcer } from "../../../src/shared/policy/index.js";
import type { AuthContext } from "../../../src/shared/auth/context.js";
import { loadConfig } from "../../../src/shared/config.js";

const spec: MicroversionSpec = {
  serviceType: "compute",
  legacyHeader: "X-OpenStack-Nova-API-Version",
  versions: [
    ["2.1", "base"],
    ["2.2", "keypair type"],
    ["2.10", "tenth"],
  ],
};

describe("microversions", () => {
  it("defaults to the minimum, honours latest, modern and legacy headers", () => {
    assert.equal(String(negotiate(spec, {})), "2.1");
    assert.equal(String(negotiate(spec, { "openstack-api-version": "compute latest" })), "2.10");
    assert.equal(String(negotiate(spec, { "openstack-api-version": "placement 1.5, compute 2.2" })), "2.2");
    assert.equal(String(negotiate(spec, { "x-openstack-nova-api-version": "2.10" })), "2.10");
    assert.equal(
      String(
        negotiate(spec, { "openstack-api-version": "compute 2.2", "x-openstack-nova-api-version": "2.10" }),
      ),
      "2.2",
    );
  });
  it("rejects out-of-range with 406 and malformed with 400", () => {
    assert.throws(
      () => negotiate(spec, { "openstack-api-version": "compute 2.11" }),
      (e: ApiError) => e.status === 406 && /Minimum is 2.1 and maximum is 2.10/.test(e.message),
    );
    assert.throws(
      () => negotiate(spec, { "openstack-api-version": "compute 2.x" }),
      (e: ApiError) => e.status === 400,
    );
    assert.throws(
      () => negotiate(spec, { "openstack-api-version": "compute 1.0" }),
      (e: ApiError) => e.status === 406,
    );
  });
  it("echoes the version with Vary", () => {
    const h = responseHeaders(spec, new Microversion(2, 2));
    assert.equal(h["openstack-api-version"], "compute 2.2");
    assert.equal(h["x-openstack-nova-api-version"], "2.2");
    assert.match(h.vary, /OpenStack-API-Version/);
  });
  it("compares numerically, not lexically", () => {
    assert.ok(new Microversion(2, 10).gte("2.9"));
    assert.ok(new Microversion(2, 9).lt("2.10"));
    assert.ok(new Microversion(2, 5).within("2.1", "2.5"));
  });
});

describe("pagination", () => {
  it("parses limit/marker and builds next links that honour X-Forwarded-Proto", () => {
    assert.deepEqual(parsePage({ limit: "5", marker: "abc" }, 100), { limit: 5, marker: "abc" });
    assert.equal(parsePage({ limit: "500" }, 100).limit, 100);
    assert.throws(
      () => parsePage({ limit: "-1" }),
      (e: ApiError) => e.status === 400,
    );
    assert.throws(
      () => parsePage({ limit: "x" }),
      (e: ApiError) => e.status === 400,
    );
    const origin = requestOrigin({ "x-forwarded-proto": "https", host: "cloud.example:443" }, "fallback");
    assert.equal(origin, "https://cloud.example:443");
    assert.equal(
      nextLink(`${origin}/compute/v2.1/servers`, { limit: "2", name: "a b" }, "m1", 2),
      "https://cloud.example:443/compute/v2.1/servers?name=a+b&limit=2&marker=m1",
    );
  });
});

describe("error formats", () => {
  const e = new ApiError(404, "Server x could not be found.");
  it("renders each service's own body", () => {
    assert.deepEqual(novaError(e).body, {
      itemNotFound: { code: 404, message: "Server x could not be found." },
    });
    assert.deepEqual(novaError(new ApiError(409, "busy")).body, {
      conflictingRequest: { code: 409, message: "busy" },
    });
    assert.deepEqual(keystoneError(e).body, {
      error: { code: 404, title: "Not Found", message: "Server x could not be found." },
    });
    assert.deepEqual(
      neutronError(new ApiError(404, "Network n not found.", { type: "NetworkNotFound" })).body,
      {
        NeutronError: { type: "NetworkNotFound", message: "Network n not found.", detail: "" },
      },
    );
    assert.deepEqual(
      placementError(new ApiError(409, "gen", { code: "placement.concurrent_update" }), "req-1").body,
      {
        errors: [
          {
            status: 409,
            title: "Conflict",
            detail: "gen",
            request_id: "req-1",
            code: "placement.concurrent_update",
          },
        ],
      },
    );
  });
});

describe("route framework", async () => {
  const ctx: AuthContext = {
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
    roleIds: ["r"],
    isAdminProject: false,
    methods: ["password"],
    auditIds: ["a"],
    issuedAt: Date.now(),
    expiresAt: Date.now() + 60_000,
    appCredId: null,
    accessRules: null,
  };
  const seen: Array<Record<string, unknown>> = [];
  const app = await buildHttpServer(
    [
      {
        name: "demo",
        serviceType: "compute",
        prefix: "/demo",
        formatError: novaError,
        microversions: spec,
        requestIdHeaders: ["x-compute-request-id"],
        routes: [
          route({
            method: "POST",
            path: "/things",
            policy: "demo:create",
            body: Type.Object(
              {
                thing: Type.Object({ name: Type.String({ maxLength: 5 }) }, { additionalProperties: false }),
              },
              { additionalProperties: false },
            ),
            handler: (c) => reply(201, { thing: { name: c.body.thing.name, mv: String(c.microversion) } }),
          }),
          route({ method: "GET", path: "/admin", policy: "demo:admin", handler: () => ({ ok: true }) }),
          route({
            method: "GET",
            path: "/whoami",
            policy: "demo:any",
            handler: (c) => {
              seen.push({ ...c.headers });
              return { user: c.auth?.userId, roles: c.auth?.roles };
            },
          }),
          route({
            method: "GET",
            path: "/boom",
            policy: null,
            auth: "none",
            handler: () => {
              throw new Error("secret internals");
            },
          }),
        ],
      },
    ],
    {
      validator: {
        validate: async (t) => {
          if (t === "good") return ctx;
          throw new ApiError(401, "bad token");
        },
      },
      policy: new PolicyEnforcer([
        { name: "demo:create", check: "role:member", description: "" },
        { name: "demo:admin", check: "role:admin", description: "" },
        { name: "demo:any", check: "", description: "" },
      ]),
      log: pino({ level: "silent" }),
    },
  );
  const call = (
    method: "GET" | "POST",
    url: string,
    headers: Record<string, string> = {},
    payload?: unknown,
  ) =>
    app.inject({
      method,
      url,
      headers: { "x-auth-token": "good", ...headers },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  it("validates, authorizes, negotiates and returns 201 with request ids", async () => {
    const r = await call(
      "POST",
      "/demo/things",
      { "openstack-api-version": "compute 2.2" },
      { thing: { name: "abc" } },
    );
    assert.equal(r.statusCode, 201);
    assert.deepEqual(r.json(), { thing: { name: "abc", mv: "2.2" } });
    assert.match(String(r.headers["x-openstack-request-id"]), /^req-[0-9a-f-]{36}$/);
    assert.equal(r.headers["x-compute-request-id"], r.headers["x-openstack-request-id"]);
    assert.equal(r.headers["openstack-api-version"], "compute 2.2");
  });
  it("answers bad input in the service's format, never 500", async () => {
    const unknown = await call("POST", "/demo/things", {}, { thing: { name: "a", extra: 1 } });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().badRequest.message, /extra/);
    const tooLong = await call("POST", "/demo/things", {}, { thing: { name: "abcdefg" } });
    assert.equal(tooLong.statusCode, 400);
    const badJson = await app.inject({
      method: "POST",
      url: "/demo/things",
      headers: { "x-auth-token": "good", "content-type": "application/json" },
      payload: "{nope",
    });
    assert.equal(badJson.statusCode, 400);
    assert.ok(badJson.json().badRequest);
    const mv = await call(
      "POST",
      "/demo/things",
      { "openstack-api-version": "compute 3.0" },
      { thing: { name: "a" } },
    );
    assert.equal(mv.statusCode, 406);
    const missing = await call("GET", "/demo/nothing");
    assert.equal(missing.statusCode, 404);
    assert.ok(missing.json().itemNotFound);
  });
  it("401 without or with a bad token, 403 by policy", async () => {
    assert.equal((await app.inject({ method: "GET", url: "/demo/admin" })).statusCode, 401);
    assert.equal((await call("GET", "/demo/admin", { "x-auth-token": "bad" })).statusCode, 401);
    const r = await call("GET", "/demo/admin");
    assert.equal(r.statusCode, 403);
    assert.ok(r.json().forbidden);
  });
  it("strips client-supplied identity headers", async () => {
    const r = await call("GET", "/demo/whoami", {
      "x-roles": "admin",
      "x-user-id": "evil",
      "x-identity-status": "Confirmed",
      "x-service-roles": "admin",
    });
    assert.deepEqual(r.json(), { user: "u1", roles: ["member"] });
    const h = seen[seen.length - 1];
    for (const k of ["x-roles", "x-user-id", "x-identity-status", "x-service-roles"])
      assert.equal(h[k], undefined);
    assert.equal((await call("GET", "/demo/admin", { "x-roles": "admin" })).statusCode, 403);
  });
  it("hides internal errors behind a 500 in the service format", async () => {
    const r = await app.inject({ method: "GET", url: "/demo/boom" });
    assert.equal(r.statusCode, 500);
    assert.ok(r.json().computeFault);
    assert.doesNotMatch(r.body, /secret internals/);
  });
});

describe("config", () => {
  it("merges defaults, env and flags and validates", () => {
    const c = loadConfig(
      { dataDir: "/tmp/x-stratus-cfg", port: 9000 },
      { STRATUS_HOST: "0.0.0.0", STRATUS_LOG_LEVEL: "debug" },
    );
    assert.equal(c.port, 9000);
    assert.equal(c.host, "0.0.0.0");
    assert.equal(c.logLevel, "debug");
    assert.equal(c.identity.passwordHashCost, 17);
    assert.throws(() => loadConfig({ dataDir: "/tmp/x-stratus-cfg" }, { STRATUS_PORT: "99999" }), /port/);
    assert.throws(
      () => loadConfig({ dataDir: "/tmp/x-stratus-cfg" }, { STRATUS_LOG_LEVEL: "loud" }),
      /logLevel/,
    );
    assert.throws(
      () => loadConfig({ dataDir: "/tmp/x-stratus-cfg", config: "/nonexistent.yaml" }, {}),
      /does not exist/,
    );
  });
});

describe("access rules", async () => {
  const { matchesAccessRules } = await import("../../../src/shared/auth/access-rules.js");
  it("matches service, method and path globs like Keystone", () => {
    const rules = [
      { service: "compute", path: "/v2.1/servers", method: "GET" },
      { service: "compute", path: "/v2.1/servers/*", method: "GET" },
      { service: "image", path: "/v2/images/**", method: "GET" },
    ];
    assert.ok(matchesAccessRules(rules, "compute", "GET", "/v2.1/servers"));
    assert.ok(matchesAccessRules(rules, "compute", "HEAD", "/v2.1/servers/abc"));
    assert.ok(!matchesAccessRules(rules, "compute", "GET", "/v2.1/servers/abc/action"));
    assert.ok(!matchesAccessRules(rules, "compute", "POST", "/v2.1/servers"));
    assert.ok(!matchesAccessRules(rules, "identity", "GET", "/v2.1/servers"));
    assert.ok(matchesAccessRules(rules, "image", "GET", "/v2/images/x/file"));
    assert.ok(matchesAccessRules(rules, "image", "GET", "/v2/images"));
  });
});

describe("root listener", () => {
  const svc = (prefix: string) => ({
    name: "demo",
    serviceType: "compute",
    prefix,
    formatError: novaError,
    routes: [
      route({ method: "GET", path: "/ping", policy: null, auth: "none", handler: () => ({ pong: true }) }),
    ],
  });
  const deps = () => ({
    validator: {
      validate: async (): Promise<AuthContext> => {
        throw new ApiError(401, "no");
      },
    },
    policy: new PolicyEnforcer([]),
    log: pino({ level: "silent" }),
  });
  it("answers unknown prefixes with a JSON 404 naming the services that run", async () => {
    const app = await buildHttpServer([svc("/demo")], deps());
    const r = await app.inject({ method: "GET", url: "/volume/v3/x" });
    assert.equal(r.statusCode, 404);
    assert.match(r.json().error.message, /Services running here: \/demo/);
    assert.match(String(r.headers["x-openstack-request-id"]), /^req-/);
  });
  it("can mount a service at the root (per-service listener, regression: duplicate not-found handler)", async () => {
    const app = await buildHttpServer([svc("")], deps());
    assert.deepEqual((await app.inject({ method: "GET", url: "/ping" })).json(), { pong: true });
    assert.ok((await app.inject({ method: "GET", url: "/nope" })).json().itemNotFound);
  });
});

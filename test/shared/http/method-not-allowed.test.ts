// Issue 8: a known path asked with a method it does not answer is 405 Method Not Allowed with an Allow header, in
// the owning service's error format, in every service (Swift's included), never 404. Walks every mounted route.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mountedServices } from "../../../src/shared/http/server.js";
import type { ServiceApi } from "../../../src/shared/http/service.js";
import { bootCompute, type ComputeCloud } from "../../compute/api/helpers.js";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
let c: ComputeCloud;
before(async () => {
  c = await bootCompute({ image: false });
});
after(() => c?.close());

const methodsOf = (m: string | string[]) => {
  const list = ([] as string[]).concat(m);
  return list.includes("GET") ? [...list, "HEAD"] : list;
};
/** A route path as a regular expression over concrete paths (independent of the server's own matching). */
const pattern = (path: string) =>
  new RegExp(
    "^" +
      path
        .split("/")
        .map((s) =>
          s === "*" ? ".*" : s.startsWith(":") ? "[^/]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
        )
        .join("/") +
      "$",
  );

/** Whether the body is an error document of the service for status 405. */
function inFormat(svc: ServiceApi, text: string): boolean {
  if (svc.name === "object") return /Method Not Allowed|not allowed/i.test(text);
  if (svc.name === "s3") return /<Code>MethodNotAllowed<\/Code>/.test(text);
  let b: any;
  try {
    b = JSON.parse(text);
  } catch {
    return false;
  }
  switch (svc.name) {
    case "identity":
      return b.error?.code === 405;
    case "image":
      return b.code === "405 Method Not Allowed";
    case "placement":
      return b.errors?.[0]?.status === 405;
    case "network":
      return b.NeutronError?.type === "HTTPMethodNotAllowed";
    case "compute":
      return b.badMethod?.code === 405;
    default:
      return Object.values(b).some((v: any) => v?.code === 405);
  }
}

test("every known path answers 405 with Allow for each method it does not support", async () => {
  const wrong: string[] = [];
  let checked = 0;
  for (const svc of mountedServices(c.t.cloud.app)) {
    const all = svc.routes.some((r) => ([] as string[]).concat(r.method).includes("COPY"))
      ? [...METHODS, "COPY"]
      : METHODS;
    const compiled = svc.routes.map((r) => ({
      re: pattern(r.path),
      methods: methodsOf(r.method),
      path: r.path,
    }));
    for (const r of svc.routes) {
      const url = r.path.replace(/:(\w+)/g, "m405$1").replace(/\*$/, "m405-object");
      const serving = compiled.filter((x) => x.re.test(url));
      const own = new Set(compiled.filter((x) => x.path === r.path).flatMap((x) => x.methods));
      for (const m of all) {
        if (serving.some((x) => x.methods.includes(m))) continue;
        const res = await c.t.cloud.app.inject({
          method: m as "GET",
          url: svc.prefix + url,
          headers: {
            "x-auth-token": c.admin,
            accept: "application/json",
            "openstack-api-version": "compute 2.90",
          },
        });
        checked++;
        const allow = String(res.headers.allow ?? "")
          .split(",")
          .map((s) => s.trim());
        const where = `${m} ${svc.prefix}${r.path}`;
        if (res.statusCode !== 405) wrong.push(`${where}: ${res.statusCode}`);
        else if (![...own].every((x) => allow.includes(x)) || allow.includes(m))
          wrong.push(`${where}: Allow ${String(res.headers.allow)} (declared ${[...own].join(", ")})`);
        else if (m !== "HEAD" && !inFormat(svc, res.payload)) wrong.push(`${where}: body ${res.payload}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
  assert.ok(checked > 100, `only ${checked} method/path pairs checked`);
});

test("a supported method is unaffected and an unknown path is still 404", async () => {
  const get = await c.req("GET", "/v2.1/servers", { token: c.demo });
  assert.equal(get.status, 200);
  const r = await c.t.cloud.app.inject({ method: "PATCH", url: "/compute/v2.1/no-such-thing" });
  assert.equal(r.statusCode, 404);
  const put = await c.t.cloud.app.inject({
    method: "PUT",
    url: "/compute/v2.1/servers",
    headers: { "x-auth-token": c.demo, "content-type": "application/json" },
    payload: "{}",
  });
  assert.equal(put.statusCode, 405, put.payload);
  assert.equal(put.headers.allow, "GET, HEAD, POST");
  assert.deepEqual(JSON.parse(put.payload), {
    badMethod: { code: 405, message: "The method specified is not allowed for this resource." },
  });
});

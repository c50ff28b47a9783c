// Horizon's login form for scripts written against Horizon (Tempest's dashboard scenario): index.html carries an
// inert <template> with Horizon's fields (id_username, id_password, region, domain, csrfmiddlewaretoken), POST
// /auth/login/ takes the form (double-submit CSRF cookie), authenticates with Keystone and keeps the unscoped token
// in an HttpOnly cookie; the app then takes that token once through POST /auth/session and logs in with it.
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

const CSRF_COOKIE = "csrftoken";
const TOKEN_COOKIE = "stratus_token";
const CSRF_RE = /^[a-f0-9]{32}$/;
const TOKEN_RE = /^[A-Za-z0-9_=-]{16,1024}$/;

/** The cookies of a request, by name (a Map: names come from the client). */
export function cookies(req: FastifyRequest): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What the Horizon form needs from the cloud. */
export interface HorizonDeps {
  /** The root app, to call Keystone as any client would (inject). */
  app: () => FastifyInstance;
  region: string;
}

/** Whether a token is valid (Keystone validates a token presented as both the caller and the subject). */
async function tokenValid(d: HorizonDeps, token: string): Promise<boolean> {
  if (!TOKEN_RE.test(token)) return false;
  const r = await d.app().inject({
    method: "HEAD",
    url: "/identity/v3/auth/tokens",
    headers: { "x-auth-token": token, "x-subject-token": token },
  });
  return r.statusCode === 200;
}

/** index.html with the Horizon form (and a CSRF cookie); titled Overview when the token cookie is valid. */
export async function horizonIndex(
  d: HorizonDeps,
  html: string,
  req: FastifyRequest,
  rep: FastifyReply,
): Promise<string> {
  const jar = cookies(req);
  let csrf = jar.get(CSRF_COOKIE) ?? "";
  if (!CSRF_RE.test(csrf)) {
    csrf = randomBytes(16).toString("hex");
    rep.header("set-cookie", `${CSRF_COOKIE}=${csrf}; Path=/; SameSite=Lax`);
  }
  const form =
    `<template id="horizon-login"><form method="post" action="/auth/login/">` +
    `<input type="hidden" name="csrfmiddlewaretoken" value="${csrf}">` +
    `<input type="hidden" name="region" value="${esc(d.region)}">` +
    `<input id="id_domain" name="domain" value="Default"><input id="id_username" name="username">` +
    `<input id="id_password" name="password" type="password"></form></template>`;
  let out = html.replace("<body>", `<body>${form}`);
  const token = jar.get(TOKEN_COOKIE);
  if (token && (await tokenValid(d, token)))
    out = out.replace(
      /<title>[^<]*<\/title>/,
      `<title>Overview - Stratus</title><meta name="stratus-session" content="cookie">`,
    );
  return out;
}

/** Mount POST /auth/login/ (Horizon's form) and POST /auth/session (the app takes the cookie's token once). */
export function mountHorizonLogin(root: FastifyInstance, d: HorizonDeps): void {
  void root.register(async (app) => {
    app.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 16384 },
      (_req, body, done) => done(null, new URLSearchParams(body as string)),
    );
    app.post("/auth/login/", async (req, rep) => {
      const form = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
      const csrf = cookies(req).get(CSRF_COOKIE);
      if (!csrf || !CSRF_RE.test(csrf) || form.get("csrfmiddlewaretoken") !== csrf)
        return rep
          .code(403)
          .header("content-type", "text/plain; charset=utf-8")
          .send("CSRF verification failed.\n");
      const username = form.get("username") ?? "";
      const password = form.get("password") ?? "";
      const domain = form.get("domain") || "Default";
      if (!username || username.length > 255 || password.length > 4096 || domain.length > 255)
        return rep.redirect("/login?reason=denied", 303);
      const body = {
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: username, password, domain: { name: domain } } },
          },
          scope: "unscoped",
        },
      };
      const r = await d.app().inject({
        method: "POST",
        url: "/identity/v3/auth/tokens?nocatalog",
        headers: { "content-type": "application/json" },
        payload: JSON.stringify(body),
      });
      const token = r.headers["x-subject-token"];
      if (r.statusCode !== 201 || typeof token !== "string") return rep.redirect("/login?reason=denied", 303);
      const expires = Date.parse(
        (JSON.parse(r.payload) as { token: { expires_at: string } }).token.expires_at,
      );
      const maxAge = Math.max(0, Math.floor((expires - Date.now()) / 1000));
      rep.header("set-cookie", `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}`);
      return rep.redirect("/project/", 303);
    });
    // JSON only, so that another site cannot send it without a CORS preflight (which nothing here answers).
    app.post("/auth/session", async (req, rep) => {
      rep.header("cache-control", "no-store").header("content-type", "application/json");
      if (!String(req.headers["content-type"] ?? "").startsWith("application/json"))
        return rep
          .code(415)
          .send(JSON.stringify({ error: { code: 415, message: "Send Content-Type: application/json." } }));
      const token = cookies(req).get(TOKEN_COOKIE);
      rep.header("set-cookie", `${TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
      if (!token || !(await tokenValid(d, token)))
        return rep
          .code(404)
          .send(JSON.stringify({ error: { code: 404, message: "No login from the form." } }));
      return rep.send(JSON.stringify({ token }));
    });
  });
}

// Horizon's login form as Tempest's dashboard scenario drives it, without a browser: GET / has id_username and the
// csrfmiddlewaretoken and region inputs; POST /auth/login/ with them (and the CSRF cookie) logs in; GET / then
// contains "Overview". A missing or wrong CSRF token, or a wrong password, does not log in; the app takes the
// form's token once through POST /auth/session.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootCloud, type TestCloud } from "../helpers/cloud.js";
import { assertBuilt } from "./helpers.js";

/** Cookies kept across requests, as urllib's cookie processor does. */
class Jar {
  private readonly jar = new Map<string, string>();
  take(setCookie: string | string[] | number | undefined): void {
    for (const c of [setCookie ?? []].flat()) {
      const [pair] = String(c).split(";");
      const i = pair!.indexOf("=");
      const v = pair!.slice(i + 1);
      if (/Max-Age=0/.test(String(c))) this.jar.delete(pair!.slice(0, i));
      else this.jar.set(pair!.slice(0, i), v);
    }
  }
  get header(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

const input = (html: string, name: string) =>
  new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1];

describe("Horizon-compatible login form", () => {
  let t: TestCloud;
  before(async () => {
    assertBuilt();
    t = await bootCloud();
  });
  after(async () => {
    await t?.close();
  });

  async function get(jar: Jar, url: string) {
    const r = await t.cloud.app.inject({ method: "GET", url, headers: { cookie: jar.header } });
    jar.take(r.headers["set-cookie"]);
    return r;
  }
  async function post(jar: Jar, fields: Record<string, string>) {
    const r = await t.cloud.app.inject({
      method: "POST",
      url: "/auth/login/",
      headers: { cookie: jar.header, "content-type": "application/x-www-form-urlencoded", referer: "/" },
      payload: new URLSearchParams(fields).toString(),
    });
    jar.take(r.headers["set-cookie"]);
    return r;
  }

  test("Tempest's scenario: login page, form post, then a page containing Overview", async () => {
    const jar = new Jar();
    const page = (await get(jar, "/")).payload;
    assert.match(page, /id_username/);
    const csrf = input(page, "csrfmiddlewaretoken");
    const region = input(page, "region");
    assert.ok(csrf && region, page);
    assert.doesNotMatch(page, /Overview/);
    const r = await post(jar, {
      username: "demo",
      password: t.cloud.demoPassword,
      region,
      domain: "Default",
      csrfmiddlewaretoken: csrf,
    });
    assert.equal(r.statusCode, 303);
    assert.equal(r.headers.location, "/project/");
    assert.match((await get(jar, "/")).payload, /Overview/);
    // The app takes the token once.
    const take = () =>
      t.cloud.app.inject({
        method: "POST",
        url: "/auth/session",
        headers: { cookie: jar.header, "content-type": "application/json" },
        payload: "{}",
      });
    const first = await take();
    assert.equal(first.statusCode, 200, first.payload);
    const token = JSON.parse(first.payload).token as string;
    assert.equal((await t.req("GET", "/v3/auth/projects", { token })).status, 200);
    jar.take(first.headers["set-cookie"]);
    assert.equal((await take()).statusCode, 404);
    assert.doesNotMatch((await get(jar, "/")).payload, /Overview/);
  });

  test("no login without the CSRF cookie's token, or with a wrong password", async () => {
    const jar = new Jar();
    const page = (await get(jar, "/")).payload;
    const csrf = input(page, "csrfmiddlewaretoken")!;
    const bad = await post(jar, {
      username: "demo",
      password: t.cloud.demoPassword,
      csrfmiddlewaretoken: "0".repeat(32),
    });
    assert.equal(bad.statusCode, 403);
    const stranger = await t.cloud.app.inject({
      method: "POST",
      url: "/auth/login/",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({
        username: "demo",
        password: t.cloud.demoPassword,
        csrfmiddlewaretoken: csrf,
      }).toString(),
    });
    assert.equal(stranger.statusCode, 403);
    const wrong = await post(jar, { username: "demo", password: "wrong", csrfmiddlewaretoken: csrf });
    assert.equal(wrong.statusCode, 303);
    assert.equal(wrong.headers.location, "/login?reason=denied");
    assert.doesNotMatch((await get(jar, "/")).payload, /Overview/);
  });
});

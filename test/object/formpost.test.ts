// FormPOST in process: a signed multipart form stores its files under the path's prefix; redirect, limits, expiry
// and signature failures answer in Swift's words.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
before(async () => {
  o = await bootObjectCloud();
  await o.sw("POST", "", { headers: { "x-account-meta-temp-url-key": "formkey" } });
});
after(() => o.close());

let n = 0;
const B = "----stratusformboundary";
/** A form body: fields, then files. */
const form = (fields: Record<string, string>, files: Array<[string, string]>): string => {
  let s = "";
  for (const [k, v] of Object.entries(fields))
    s += `--${B}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  for (const [i, [name, data]] of files.entries())
    s += `--${B}\r\nContent-Disposition: form-data; name="file${i}"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n${data}\r\n`;
  return `${s}--${B}--\r\n`;
};
const sign = (
  path: string,
  redirect: string,
  size: number,
  count: number,
  expires: number,
  key = "formkey",
) => createHmac("sha256", key).update(`${path}\n${redirect}\n${size}\n${count}\n${expires}`).digest("hex");
const post = (path: string, body: string) =>
  o.sw("POST", path, {
    token: null,
    body,
    headers: { "content-type": `multipart/form-data; boundary=${B}` },
  });

describe("FormPOST", () => {
  test("files are stored under the prefix; 201 in text, or 303 to the redirect", async () => {
    const c = `fp${++n}`;
    await o.sw("PUT", `/${c}`);
    const expires = Math.floor(Date.now() / 1000) + 600;
    const path = `/v1/${o.account}/${c}/up/`;
    const fields = { max_file_size: "100", max_file_count: "2", expires: String(expires) };
    let r = await post(
      `/${c}/up/`,
      form({ ...fields, signature: sign(path, "", 100, 2, expires) }, [
        ["a.txt", "AAA"],
        ["b.txt", "BB"],
      ]),
    );
    assert.equal(r.status, 201, r.text);
    assert.equal(r.text, "201 Created");
    assert.equal((await o.sw("GET", `/${c}/up/a.txt`)).text, "AAA");
    assert.equal((await o.sw("GET", `/${c}/up/b.txt`)).headers["content-type"], "text/plain");
    const redirect = "https://example.invalid/done";
    r = await post(
      `/${c}/up/`,
      form({ redirect, ...fields, signature: sign(path, redirect, 100, 2, expires) }, [["c.txt", "C"]]),
    );
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, `${redirect}?status=201&message=`);
    // A container path gets a slash before the file name.
    const cpath = `/v1/${o.account}/${c}`;
    r = await post(
      `/${c}`,
      form({ ...fields, signature: sign(cpath, "", 100, 2, expires) }, [["top.txt", "T"]]),
    );
    assert.equal(r.status, 201, r.text);
    assert.equal((await o.sw("GET", `/${c}/top.txt`)).text, "T");
  });

  test("refusals: bad signature 401, expired 401, too many files, too large, no files", async () => {
    const c = `fp${++n}`;
    await o.sw("PUT", `/${c}`);
    const path = `/v1/${o.account}/${c}`;
    const exp = Math.floor(Date.now() / 1000) + 600;
    const f = (size: number, count: number, expires: number, sig: string) => ({
      max_file_size: String(size),
      max_file_count: String(count),
      expires: String(expires),
      signature: sig,
    });
    let r = await post(`/${c}`, form(f(10, 1, exp, "0".repeat(64)), [["x", "x"]]));
    assert.equal(r.status, 401);
    assert.equal(r.text, "FormPost: Invalid Signature");
    const past = Math.floor(Date.now() / 1000) - 10;
    r = await post(`/${c}`, form(f(10, 1, past, sign(path, "", 10, 1, past)), [["x", "x"]]));
    assert.equal(r.status, 401);
    assert.equal(r.text, "FormPost: Form Expired");
    r = await post(
      `/${c}`,
      form(f(10, 1, exp, sign(path, "", 10, 1, exp)), [
        ["x", "x"],
        ["y", "y"],
      ]),
    );
    assert.equal(r.status, 400);
    assert.equal(r.text, "400 Bad Request\r\nFormPost: Max File Count Exceeded");
    assert.equal((await o.sw("GET", `/${c}/x`)).text, "x");
    r = await post(`/${c}`, form(f(3, 1, exp, sign(path, "", 3, 1, exp)), [["big", "0123456789"]]));
    assert.equal(r.status, 400);
    assert.equal(r.text, "FormPost: max_file_size exceeded");
    assert.equal((await o.sw("GET", `/${c}/big`)).status, 404);
    r = await post(`/${c}`, form(f(3, 1, exp, sign(path, "", 3, 1, exp)), []));
    assert.equal(r.text, "400 Bad Request\r\nFormPost: No Files To Process");
    r = await o.sw("POST", `/${c}`, {
      token: null,
      body: "garbage",
      headers: { "content-type": `multipart/form-data; boundary=${B}` },
    });
    assert.equal(r.status, 400);
    assert.equal(r.text, "FormPost: invalid starting boundary");
  });
});

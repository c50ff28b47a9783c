// Temporary URLs for Swift objects, made in the browser: the container's Temp-URL key (set to a random one when
// neither the account nor the container has one) and an HMAC-SHA256 signature computed with WebCrypto.
import type { Api } from "./client.js";
import { ApiError } from "./errors.js";
import { objectPath } from "./objects.js";

const OS = "object-store";

/** A random Temp-URL key: 32 random bytes as hex. */
function randomKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Hex HMAC-SHA256 of `message` with `key` (WebCrypto: only in a secure context, https or loopback). */
export async function hmacSha256Hex(key: string, message: string): Promise<string> {
  if (!globalThis.crypto?.subtle)
    throw new ApiError(0, "Signing a temporary URL needs the dashboard over HTTPS (WebCrypto).", OS);
  const enc = new TextEncoder();
  const k = await crypto.subtle.importKey("raw", enc.encode(key), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(message)));
  return Array.from(mac, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The temporary URL calls, bound to one Api. */
export function tempUrlCalls(api: Api) {
  /** A header of a HEAD on `path` (the account when empty), or "" when absent. */
  const head = async (path: string, name: string): Promise<string> => {
    const { url, headers } = api.prepare(OS, path);
    const res = await api.transport.fetch(url, { method: "HEAD", headers });
    if (!res.ok) throw new ApiError(res.status, `Could not read the Temp-URL key (HTTP ${res.status}).`, OS);
    return res.headers.get(name) ?? "";
  };
  return {
    /** The key that signs URLs of `container`: the account's, else the container's, else a new container key. */
    key: async (container: string): Promise<string> => {
      const account = await head("", "x-account-meta-temp-url-key");
      if (account) return account;
      const own = await head(objectPath(container), "x-container-meta-temp-url-key");
      if (own) return own;
      const key = randomKey();
      await api.call(OS, objectPath(container), {
        method: "POST",
        headers: { "x-container-meta-temp-url-key": key },
        raw: true,
      });
      return key;
    },
    /** A GET URL of the object valid for `seconds`, signed with `key`; `origin` is the page's (absolute URL). */
    sign: async (
      key: string,
      container: string,
      name: string,
      seconds: number,
      origin: string,
    ): Promise<string> => {
      const expires = Math.floor(Date.now() / 1000) + seconds;
      const base = api.endpoint(OS);
      // Swift signs the decoded path; the URL carries it encoded.
      const sig = await hmacSha256Hex(key, `GET\n${expires}\n${base}/${container}/${name}`);
      return `${origin}${base}${objectPath(container, name)}?temp_url_sig=${sig}&temp_url_expires=${expires}`;
    },
  };
}

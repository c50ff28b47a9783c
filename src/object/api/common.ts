// Headers every Swift answer carries, and small reply helpers.
import { Reply } from "../../shared/http/reply.js";
import { newTimestamp } from "../timestamp.js";

/** Headers of account and container answers: Accept-Ranges and the listing's content type. */
export function baseHeaders(contentType = "text/plain; charset=utf-8"): Record<string, string> {
  return { "accept-ranges": "bytes", "content-type": contentType };
}

/** An empty answer (PUT/POST/DELETE) with Swift's text/html content type and X-Timestamp-free headers. */
export function empty(status: number, headers: Record<string, string> = {}): Reply {
  return new Reply(status, status === 204 ? undefined : "", {
    "content-type": "text/html; charset=UTF-8",
    ...(status === 204 ? {} : { "content-length": "0" }),
    ...headers,
  });
}

/** A fresh X-Timestamp value for answers about things not stored (an account never written to). */
export const nowTimestamp = newTimestamp;

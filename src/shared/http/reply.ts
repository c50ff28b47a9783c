import type { Readable } from "node:stream";

/** A handler result with an explicit status, headers or a non-JSON body; plain values mean 200 JSON. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Build a reply with a status and optional headers. */
export const reply = (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  new Reply(status, body, headers);

/** 204 No Content. */
export const noContent = (headers: Record<string, string> = {}): Reply => new Reply(204, undefined, headers);

/** A streamed body with its content type. */
export const stream = (status: number, body: Readable, headers: Record<string, string>): Reply =>
  new Reply(status, body, headers);

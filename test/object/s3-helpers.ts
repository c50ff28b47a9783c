// S3 requests in process: an EC2 key pair for the demo user and a signed-request helper over fastify's inject.
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";
import { signHeaders, type AwsKeys } from "../helpers/sigv4.js";

/** An S3 answer as tests see it. */
export interface S3Res {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Buffer;
  text: string;
}

/** A booted cloud, the demo user's EC2 keys and a signed S3 request helper. */
export interface S3Cloud {
  o: ObjectCloud;
  keys: AwsKeys;
  /** A signed request; `url` below /s3 (e.g. "/bucket/key?uploads="). */
  s3(
    method: string,
    url: string,
    opts?: { body?: Buffer | string; headers?: Record<string, string>; keys?: AwsKeys; unsigned?: boolean },
  ): Promise<S3Res>;
  /** An unsigned request (raw headers). */
  raw(method: string, url: string, headers?: Record<string, string>, body?: Buffer | string): Promise<S3Res>;
  close(): Promise<void>;
}

/** Make an EC2 key pair for the demo user on the demo project. */
export async function demoKeys(o: ObjectCloud): Promise<AwsKeys> {
  const uid = await o.t.userId("demo");
  const r = await o.t.req("POST", `/identity/v3/users/${uid}/credentials/OS-EC2`, {
    token: o.demo,
    body: { tenant_id: await o.t.projectId("demo") },
  });
  if (r.status !== 201) throw new Error(`ec2 credential: ${r.status} ${r.text}`);
  return { access: r.body.credential.access, secret: r.body.credential.secret };
}

/** Boot a cloud with S3 helpers; `config` is merged into the test configuration. */
export async function bootS3Cloud(config: Record<string, unknown> = {}): Promise<S3Cloud> {
  const o = await bootObjectCloud(config);
  const keys = await demoKeys(o);
  const send = async (
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: Buffer | string,
  ) => {
    const r = await o.t.cloud.app.inject({
      method: method as "GET",
      url,
      headers,
      ...(body !== undefined ? { payload: body } : {}),
    });
    return {
      status: r.statusCode,
      headers: r.headers,
      body: r.rawPayload,
      text: r.rawPayload.toString("utf8"),
    };
  };
  return {
    o,
    keys,
    s3: (method, url, opts = {}) => {
      const full = `/s3${url}`;
      const body = opts.body ?? (["PUT", "POST"].includes(method) ? "" : undefined);
      const headers = signHeaders(opts.keys ?? keys, {
        method,
        url: full,
        headers: {
          ...(opts.headers ?? {}),
          ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}),
        },
        body,
        unsigned: opts.unsigned,
      });
      return send(method, full, headers, body);
    },
    raw: (method, url, headers = {}, body) => send(method, `/s3${url}`, headers, body),
    close: () => o.close(),
  };
}

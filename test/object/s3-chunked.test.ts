// The aws-chunked decoder alone: frames split anywhere between reads (a byte at a time, at random), signatures
// chained from the seed, and the failures a bad frame, signature or length give.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { test } from "node:test";
import { signingKeyV4 } from "../../src/shared/auth/aws-signature.js";
import { ChunkDecoder, type ChunkSigning } from "../../src/object/s3/chunked.js";
import { signChunked } from "../helpers/sigv4.js";

const keys = { access: "AKTEST", secret: "s3cr3t" };

/** A signed chunked body of `data` and the signing parameters its headers carry. */
function encoded(data: Buffer, chunk: number, tamper?: number): { body: Buffer; signing: ChunkSigning } {
  const { headers, body } = signChunked(keys, { method: "PUT", url: "/b/k", data, chunk, tamper });
  const scope = /Credential=[^/]+\/([^,]+),/.exec(headers.authorization)?.[1] ?? "";
  const seed = /Signature=([0-9a-f]+)/.exec(headers.authorization)?.[1] ?? "";
  const key = signingKeyV4(keys.secret, scope);
  assert.ok(key);
  return { body, signing: { key, amzDate: headers["x-amz-date"], scope, seed } };
}

/** Feed `body` to a decoder in pieces of the given sizes (cycled); the decoded text or the error. */
async function decode(
  body: Buffer,
  signing: ChunkSigning,
  declared: number,
  sizes: () => number,
): Promise<{ out?: string; err?: string }> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length;) {
    const n = Math.max(1, sizes());
    pieces.push(body.subarray(i, i + n));
    i += n;
  }
  const d = new ChunkDecoder(signing, declared);
  Readable.from(pieces).pipe(d);
  try {
    return { out: await text(d) };
  } catch {
    return { err: d.failure?.code };
  }
}

test("frames split a byte at a time or at random decode to the data", async () => {
  const data = Buffer.from("chunked data ".repeat(500));
  const { body, signing } = encoded(data, 1000);
  assert.equal((await decode(body, signing, data.length, () => 1)).out, data.toString());
  const random = await decode(body, signing, data.length, () => Math.floor(Math.random() * 200));
  assert.equal(random.out, data.toString());
  assert.equal((await decode(body, signing, data.length, () => body.length)).out, data.toString());
});

test("a tampered chunk, a wrong seed, a wrong length or bad framing fail the stream", async () => {
  const data = Buffer.from("abcdefgh".repeat(300));
  const good = encoded(data, 512);
  const tampered = encoded(data, 512, 2);
  const all = () => 64;
  assert.equal(
    (await decode(tampered.body, tampered.signing, data.length, all)).err,
    "SignatureDoesNotMatch",
  );
  const seed = { ...good.signing, seed: "0".repeat(64) };
  assert.equal((await decode(good.body, seed, data.length, all)).err, "SignatureDoesNotMatch");
  assert.equal((await decode(good.body, good.signing, data.length - 1, all)).err, "IncompleteBody");
  assert.equal((await decode(good.body, good.signing, data.length + 1, all)).err, "IncompleteBody");
  const cut = good.body.subarray(0, good.body.length - 4);
  assert.equal((await decode(cut, good.signing, data.length, all)).err, "IncompleteBody");
  const extra = Buffer.concat([good.body, Buffer.from("x")]);
  assert.equal((await decode(extra, good.signing, data.length, all)).err, "IncompleteBody");
  const longLine = Buffer.from("f".repeat(400));
  assert.equal((await decode(longLine, good.signing, data.length, all)).err, "IncompleteBody");
});

// Glance's `swift` store, single-tenant: every image lives in one account (the service project's) as a static large
// object, its bytes in segments of `segmentSize` in `<container>_segments`, all through the object storage
// service's public API. Uploads stream segment by segment (one segment in flight), so memory stays flat.
import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import { PassThrough, type Readable } from "node:stream";
import { bodyText, type StreamClient, type StreamResponse } from "../../shared/client/stream-client.js";
import { StoreTooLarge, type ImageStore, type StoredData } from "./store.js";

/** Where and how the store writes. */
export interface SwiftStoreOptions {
  /** Container of the image objects (Glance's swift_store_container, "glance"); segments go to `<it>_segments`. */
  container: string;
  /** Bytes per segment (Glance's large_object_chunk_size). */
  segmentSize: number;
}

/** Segments a manifest may list (the object service's max_manifest_segments). */
const MAX_SEGMENTS = 1000;

/** Thrown while the store has no object storage connection (before start-up finished, or without the service). */
export class StoreUnavailable extends Error {
  constructor() {
    super("The swift image store is not connected to object storage.");
  }
}

interface Segment {
  name: string;
  pass: PassThrough;
  written: number;
  md5: Hash;
  response: Promise<StreamResponse>;
  /** Rejects when the object service answers before the segment was sent: it refused it. */
  early: Promise<never>;
}

/** An ImageStore over object storage; `connect()` gives it its client once the cloud's identity is up. */
export class SwiftImageStore implements ImageStore {
  readonly id = "swift";
  private conn: { client: StreamClient; account: string } | null = null;
  private containers: Promise<void> | null = null;

  constructor(private readonly opts: SwiftStoreOptions) {}

  /** Use `client` (a stream client of /object-store/v1) on account `AUTH_<project>` of the service project. */
  connect(client: StreamClient, projectId: string): void {
    this.conn = { client, account: `AUTH_${projectId}` };
    this.containers = null;
  }

  private get client(): { client: StreamClient; account: string } {
    if (!this.conn) throw new StoreUnavailable();
    return this.conn;
  }

  private objectPath(container: string, name: string): string {
    const enc = name.split("/").map(encodeURIComponent).join("/");
    return `/${this.client.account}/${encodeURIComponent(container)}/${enc}`;
  }

  private get segments(): string {
    return `${this.opts.container}_segments`;
  }

  private async call(method: string, path: string, ok: number[], body?: string | Buffer, headers = {}) {
    const res = await this.client.client.request(method, path, {
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await bodyText(res);
    if (!ok.includes(res.status))
      throw new Error(`object storage answered ${res.status} to ${method} ${path}: ${text.slice(0, 200)}`);
    return res;
  }

  private ensureContainers(): Promise<void> {
    this.containers ??= (async () => {
      for (const c of [this.opts.container, this.segments])
        await this.call("PUT", `/${this.client.account}/${encodeURIComponent(c)}`, [201, 202]);
    })().catch((e) => {
      this.containers = null;
      throw e;
    });
    return this.containers;
  }

  private openSegment(name: string): Segment {
    const pass = new PassThrough({ highWaterMark: 1 << 20 });
    const response = this.client.client.request("PUT", this.objectPath(this.segments, name), {
      headers: { "content-type": "application/octet-stream" },
      body: pass,
    });
    const early = response.then(async (r) => {
      throw new Error(
        `object storage refused segment ${name}: ${r.status} ${(await bodyText(r)).slice(0, 200)}`,
      );
    });
    early.catch(() => {});
    return { name, pass, written: 0, md5: createHash("md5"), response, early };
  }

  private async closeSegment(seg: Segment) {
    seg.pass.end();
    const res = await seg.response;
    const text = await bodyText(res);
    if (res.status !== 201)
      throw new Error(`object storage answered ${res.status} for segment ${seg.name}: ${text.slice(0, 200)}`);
    return { path: `${this.segments}/${seg.name}`, etag: seg.md5.digest("hex"), size_bytes: seg.written };
  }

  async put(
    imageId: string,
    data: Readable,
    opts: { maxBytes?: number; onChunk?: (chunk: Buffer) => void } = {},
  ): Promise<StoredData> {
    if (!/^[A-Za-z0-9-]+$/.test(imageId)) throw new Error(`invalid image id for the swift store: ${imageId}`);
    await this.ensureContainers();
    const segSize = this.opts.segmentSize;
    const limit = Math.min(opts.maxBytes ?? Number.POSITIVE_INFINITY, segSize * MAX_SEGMENTS);
    const md5 = createHash("md5");
    const sha = createHash("sha512");
    const done: { path: string; etag: string; size_bytes: number }[] = [];
    const written: string[] = [];
    let seg: Segment | null = null;
    let size = 0;
    try {
      for await (const raw of data) {
        let chunk = raw as Buffer;
        size += chunk.length;
        if (size > limit) throw new StoreTooLarge(limit);
        md5.update(chunk);
        sha.update(chunk);
        opts.onChunk?.(chunk);
        while (chunk.length > 0) {
          if (!seg) {
            seg = this.openSegment(`${imageId}/${String(done.length + 1).padStart(8, "0")}`);
            written.push(seg.name);
          }
          const piece = chunk.subarray(0, segSize - seg.written);
          chunk = chunk.subarray(piece.length);
          seg.written += piece.length;
          seg.md5.update(piece);
          if (!seg.pass.write(piece)) await Promise.race([once(seg.pass, "drain"), seg.early]);
          if (seg.written === segSize) {
            done.push(await this.closeSegment(seg));
            seg = null;
          }
        }
      }
      if (seg) done.push(await this.closeSegment(seg));
      seg = null;
      const manifest = this.objectPath(this.opts.container, imageId);
      if (size === 0)
        await this.call("PUT", manifest, [201], "", { "content-type": "application/octet-stream" });
      else
        await this.call("PUT", `${manifest}?multipart-manifest=put`, [201], JSON.stringify(done), {
          "content-type": "application/octet-stream",
        });
    } catch (e) {
      if (seg) seg.pass.destroy();
      await this.removeSegments(written).catch(() => {});
      throw e;
    }
    const location = `swift+config://stratus/${encodeURIComponent(this.opts.container)}/${imageId}`;
    return { location, size, md5: md5.digest("hex"), sha512: sha.digest("hex") };
  }

  private async removeSegments(names: string[]): Promise<void> {
    for (const n of names) await this.call("DELETE", this.objectPath(this.segments, n), [204, 404]);
  }

  /** The container and object a location names (only this store's own locations). */
  private parse(location: string): { container: string; object: string } {
    const m = /^swift\+config:\/\/stratus\/([^/]+)\/([A-Za-z0-9-]+)$/.exec(location);
    if (!m) throw new Error(`not a swift store location: ${location}`);
    return { container: decodeURIComponent(m[1]), object: m[2] };
  }

  get(location: string, range?: { start: number; end: number }): Readable {
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    // "pending" until the object service answered, as a file stream until its file is open (see api/data.ts).
    Object.defineProperty(out, "pending", { get: () => pending, configurable: true });
    let pending = true;
    (async () => {
      const { container, object } = this.parse(location);
      const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {};
      const res = await this.client.client.request("GET", this.objectPath(container, object), { headers });
      if (res.status !== 200 && res.status !== 206) {
        const text = await bodyText(res);
        throw new Error(`object storage answered ${res.status} reading ${location}: ${text.slice(0, 200)}`);
      }
      pending = false;
      out.emit("ready");
      res.body.on("error", (e) => out.destroy(e));
      res.body.pipe(out);
    })().catch((e: Error) => out.destroy(e));
    return out;
  }

  async delete(location: string): Promise<void> {
    const { container, object } = this.parse(location);
    await this.call(
      "DELETE",
      `${this.objectPath(container, object)}?multipart-manifest=delete`,
      [200, 204, 404],
    );
  }
}

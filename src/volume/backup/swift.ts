// The swift backup store: objects in the object storage service, through its public Swift API only, as a
// service client (a token whose ResellerAdmin role reaches every project's account AUTH_<project>).
import type { ChunkStore } from "./types.js";

/** One Swift API request below /object-store/v1 (path starts with /AUTH_...), answering status and body. */
export type SwiftRequest = (
  method: "GET" | "PUT" | "DELETE",
  path: string,
  body?: Buffer,
) => Promise<{ status: number; body: Buffer }>;

const enc = (s: string): string => s.split("/").map(encodeURIComponent).join("/");

/** Objects in Swift containers of AUTH_<project>. */
export class SwiftChunkStore implements ChunkStore {
  private readonly made = new Set<string>();

  constructor(private readonly request: SwiftRequest) {}

  private async container(account: string, container: string): Promise<void> {
    const k = `${account}/${container}`;
    if (this.made.has(k)) return;
    const r = await this.request("PUT", `/AUTH_${enc(account)}/${enc(container)}`);
    if (r.status !== 201 && r.status !== 202)
      throw new Error(`swift: creating container ${container} answered ${r.status}`);
    this.made.add(k);
  }

  async put(account: string, container: string, object: string, data: Buffer): Promise<void> {
    await this.container(account, container);
    const path = `/AUTH_${enc(account)}/${enc(container)}/${enc(object)}`;
    let r = await this.request("PUT", path, data);
    if (r.status === 404) {
      // The container was removed since we made it.
      this.made.delete(`${account}/${container}`);
      await this.container(account, container);
      r = await this.request("PUT", path, data);
    }
    if (r.status !== 201) throw new Error(`swift: PUT ${object} answered ${r.status}`);
  }

  async get(account: string, container: string, object: string): Promise<Buffer | null> {
    const r = await this.request("GET", `/AUTH_${enc(account)}/${enc(container)}/${enc(object)}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`swift: GET ${object} answered ${r.status}`);
    return r.body;
  }

  async delete(account: string, container: string, object: string): Promise<void> {
    const r = await this.request("DELETE", `/AUTH_${enc(account)}/${enc(container)}/${enc(object)}`);
    if (r.status !== 204 && r.status !== 404) throw new Error(`swift: DELETE ${object} answered ${r.status}`);
  }
}

// Container quotas (Swift's container_quotas): X-Container-Meta-Quota-Bytes and -Quota-Count limit what a
// container holds; an upload that would pass either is 413.
import { swiftText } from "../errors.js";
import { REMOVE } from "./metadata.js";
import type { Container } from "../store/containers.js";

const BYTES = "x-container-meta-quota-bytes";
const COUNT = "x-container-meta-quota-count";

/** Refuse quota metadata that is not a non-negative integer (400 as Swift); "" removes a quota. */
export function checkQuotaMeta(changes: Map<string, string>): void {
  const bytes = changes.get(BYTES);
  if (bytes !== undefined && bytes !== "" && bytes !== REMOVE && !/^\d{1,18}$/.test(bytes))
    throw swiftText(400, "Invalid bytes quota.");
  const count = changes.get(COUNT);
  if (count !== undefined && count !== "" && count !== REMOVE && !/^\d{1,18}$/.test(count))
    throw swiftText(400, "Invalid count quota.");
}

/** Refuse an upload of `length` bytes (when known) that would take the container past a quota. */
export function checkQuota(c: Container, length: number | undefined): void {
  const bytes = c.meta.get(BYTES);
  if (bytes !== undefined && length !== undefined && c.bytesUsed + length > Number(bytes))
    throw swiftText(413, "Upload exceeds quota.");
  const count = c.meta.get(COUNT);
  if (count !== undefined && c.objectCount + 1 > Number(count)) throw swiftText(413, "Upload exceeds quota.");
}

import { ApiError, STATUS_TITLES } from "../shared/http/errors.js";
import type { FormattedError } from "../shared/http/error-formats.js";

/** Swift's canned bodies per status (swob's RESPONSE_REASONS): what an error says when nothing more specific is. */
const BODIES: ReadonlyMap<number, string> = new Map([
  [400, "The server could not comply with the request since it is either malformed or otherwise incorrect."],
  [401, "This server could not verify that you are authorized to access the document you requested."],
  [403, "Access was denied to this resource."],
  [404, "The resource could not be found."],
  [405, "The method is not allowed for this resource."],
  [409, "There was a conflict when trying to complete your request."],
  [406, "The resource is not available in a format acceptable to your browser."],
  [411, "Content-Length header required."],
  [412, "A precondition for this request was not met."],
  [413, "The body of your request was too large for this server."],
  [416, "The Range requested is not available."],
  [422, "Unable to process the contained instructions"],
  [499, "The client has disconnected"],
  [500, "The server has either erred or is incapable of performing the requested operation."],
  [
    501,
    "The server is unable to fulfill the request because it does not support the functionality required.",
  ],
  [503, "The server is currently unavailable. Please try again at a later time."],
]);

const TITLES: ReadonlyMap<number, string> = new Map([
  [411, "Length Required"],
  [412, "Precondition Failed"],
  [422, "Unprocessable Entity"],
  [499, "Client Disconnect"],
]);

/** A Swift error: an HTML page with the status's canned text, or `text` sent as plain text when given. */
export class SwiftError extends ApiError {
  constructor(status: number, text?: string, headers: Record<string, string> = {}) {
    super(status, text ?? BODIES.get(status) ?? "", {
      type: text === undefined ? "html" : "text",
      headers,
    });
  }
}

/** A canned Swift error for a status (its HTML page). */
export const swiftError = (status: number, headers: Record<string, string> = {}): SwiftError =>
  new SwiftError(status, undefined, headers);

/** A Swift error with a plain-text explanation (as Swift's constraint checks answer). */
export const swiftText = (status: number, text: string): SwiftError => new SwiftError(status, text);

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);

/**
 * Swift's error bodies: `<html><h1>Title</h1><p>text</p></html>` for canned errors, plain text for explained ones.
 * Errors raised by the shared framework (a bad token, an unknown path) are shown with their status's canned page.
 */
export function formatObjectError(err: ApiError): FormattedError {
  if (err.status === 304) return { body: "", contentType: "text/html; charset=UTF-8" };
  if (err.extra.type === "text") return { body: err.message, contentType: "text/plain; charset=UTF-8" };
  const title = TITLES.get(err.status) ?? STATUS_TITLES[err.status] ?? "Error";
  const text = BODIES.get(err.status) ?? err.message;
  return {
    body: `<html><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></html>`,
    contentType: "text/html; charset=UTF-8",
  };
}

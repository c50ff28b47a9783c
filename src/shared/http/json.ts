import { ApiError } from "./errors.js";

/** Deepest nesting of arrays and objects a request body may have; no OpenStack body comes near it. */
export const MAX_JSON_DEPTH = 100;

/** The nesting depth of a JSON text, counted without recursion ("[]" is 1; brackets inside strings are skipped). */
export function jsonDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
      if (max > stopAbove) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Parse a request body as JSON: a 400 (in the caller's service format) when it is malformed or nested too deep. */
export function parseJsonBody(text: string, invalid = "The request body is not valid JSON."): unknown {
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    throw new ApiError(400, `The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, invalid);
  }
}

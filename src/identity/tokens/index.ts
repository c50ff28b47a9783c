// Non-persistent, Fernet-like identity tokens with rotating keys.
export { KEY_BYTES, KeyRepository } from "./keys.js";
export { MAX_TOKEN_CHARS, TOKEN_VERSION, TokenCodec, newAuditId } from "./codec.js";
export type { TokenPayload } from "./codec.js";

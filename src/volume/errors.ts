// Cinder's errors: {"itemNotFound": {"code": 404, "message": "..."}} (the fault names of Cinder's WSGI layer:
// badRequest, forbidden, itemNotFound, conflictingRequest, overLimit, ...), the same shape as Nova's.
import { novaError, type FormattedError } from "../shared/http/error-formats.js";
import { ApiError } from "../shared/http/errors.js";

/** Render an error as Cinder does. */
export function formatVolumeError(err: ApiError): FormattedError {
  return novaError(err);
}

/** 400 "Invalid input received: ..." (Cinder's InvalidInput). */
export const invalidInput = (msg: string): ApiError => new ApiError(400, `Invalid input received: ${msg}`);
/** 400 with a message as is (Cinder's Invalid* exceptions). */
export const badRequest = (msg: string): ApiError => new ApiError(400, msg);
/** 400 "Invalid volume: ..." (InvalidVolume: the volume's state does not allow the request). */
export const invalidVolume = (msg: string): ApiError => new ApiError(400, `Invalid volume: ${msg}`);
/** 400 "Invalid snapshot: ..." (InvalidSnapshot). */
export const invalidSnapshot = (msg: string): ApiError => new ApiError(400, `Invalid snapshot: ${msg}`);
/** 404 with a message. */
export const notFound = (msg: string): ApiError => new ApiError(404, msg);
/** 409 with a message. */
export const conflict = (msg: string): ApiError => new ApiError(409, msg);
/** 413 with a message (quota exceeded: VolumeLimitExceeded, VolumeSizeExceedsAvailableQuota, ...). */
export const overLimit = (msg: string): ApiError => new ApiError(413, msg);

/** 404 "Volume <id> could not be found." */
export const volumeNotFound = (id: string): ApiError => notFound(`Volume ${id} could not be found.`);
/** 404 "Snapshot <id> could not be found." */
export const snapshotNotFound = (id: string): ApiError => notFound(`Snapshot ${id} could not be found.`);
/** 404 "Volume type <id> could not be found." */
export const typeNotFound = (id: string): ApiError => notFound(`Volume type ${id} could not be found.`);
/** 404 "Attachment <id> could not be found." */
export const attachmentNotFound = (id: string): ApiError =>
  notFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);

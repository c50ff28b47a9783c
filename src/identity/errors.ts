import { ApiError } from "../shared/http/errors.js";
import { keystoneError } from "../shared/http/error-formats.js";

/** Render an error as Keystone does: {"error": {"code", "title", "message"}}. */
export const formatIdentityError = keystoneError;

/** 404 for a missing identity entity, in Keystone's wording. */
export const notFoundEntity = (kind: string, id: string): ApiError =>
  new ApiError(404, `Could not find ${kind}: ${id}.`);

/** 409 for a duplicate, in Keystone's wording. */
export const duplicate = (kind: string, field: string, value: string): ApiError =>
  new ApiError(
    409,
    `Conflict occurred attempting to store ${kind} - Duplicate entry found with ${field} ${value}.`,
  );

/** 401 for failed authentication; never says whether the user exists. */
export const authFailed = (): ApiError =>
  new ApiError(401, "The request you have made requires authentication.");

// S3's errors: an XML <Error> with a code, a message, the resource and the request id, at the status S3 gives that
// code. Errors raised below the S3 layer (the framework's 404/405/413) are shown with the nearest S3 code.
import { ApiError } from "../../shared/http/errors.js";
import type { FormattedError } from "../../shared/http/error-formats.js";
import { xmlDocument, type XmlNode } from "./xml.js";

/** S3 error codes this API answers with: status and message. */
const CODES: ReadonlyMap<string, [number, string]> = new Map([
  ["AccessDenied", [403, "Access Denied."]],
  ["AuthorizationHeaderMalformed", [400, "The authorization header is malformed."]],
  ["AuthorizationQueryParametersError", [400, "The authorization query parameters are malformed."]],
  ["BadDigest", [400, "The Content-MD5 you specified did not match what we received."]],
  ["BucketAlreadyExists", [409, "The requested bucket name is not available."]],
  [
    "BucketAlreadyOwnedByYou",
    [409, "Your previous request to create the named bucket succeeded and you already own it."],
  ],
  ["BucketNotEmpty", [409, "The bucket you tried to delete is not empty"]],
  ["EntityTooLarge", [400, "Your proposed upload exceeds the maximum allowed object size."]],
  ["EntityTooSmall", [400, "Your proposed upload is smaller than the minimum allowed object size."]],
  ["ExpiredToken", [400, "The provided token has expired."]],
  [
    "IncompleteBody",
    [400, "You did not provide the number of bytes specified by the Content-Length HTTP header."],
  ],
  ["InternalError", [500, "We encountered an internal error. Please try again."]],
  ["InvalidAccessKeyId", [403, "The AWS Access Key Id you provided does not exist in our records."]],
  ["InvalidArgument", [400, "Invalid Argument"]],
  ["InvalidBucketName", [400, "The specified bucket is not valid."]],
  ["InvalidDigest", [400, "The Content-MD5 you specified is not valid."]],
  [
    "InvalidPart",
    [
      400,
      "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
    ],
  ],
  [
    "InvalidPartOrder",
    [400, "The list of parts was not in ascending order. Parts must be ordered by part number."],
  ],
  ["InvalidPartNumber", [416, "The requested partnumber is not satisfiable"]],
  ["InvalidRange", [416, "The requested range cannot be satisfied."]],
  ["InvalidRequest", [400, "Invalid Request"]],
  ["InvalidTag", [400, "The TagKey or TagValue you have provided is invalid."]],
  ["InvalidURI", [400, "Couldn't parse the specified URI."]],
  ["KeyTooLongError", [400, "Your key is too long."]],
  [
    "MalformedXML",
    [400, "The XML you provided was not well-formed or did not validate against our published schema."],
  ],
  [
    "MalformedACLError",
    [400, "The XML you provided was not well-formed or did not validate against our published schema."],
  ],
  ["MaxMessageLengthExceeded", [400, "Your request was too big."]],
  ["MetadataTooLarge", [400, "Your metadata headers exceed the maximum allowed metadata size."]],
  ["MethodNotAllowed", [405, "The specified method is not allowed against this resource."]],
  ["MissingContentLength", [411, "You must provide the Content-Length HTTP header."]],
  ["MissingSecurityHeader", [400, "Your request was missing a required header."]],
  ["NoSuchBucket", [404, "The specified bucket does not exist."]],
  ["NoSuchKey", [404, "The specified key does not exist."]],
  [
    "NoSuchUpload",
    [
      404,
      "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.",
    ],
  ],
  ["NoSuchTagSet", [404, "The TagSet does not exist"]],
  ["NoSuchVersion", [404, "The specified version does not exist."]],
  ["NotImplemented", [501, "A header you provided implies functionality that is not implemented."]],
  ["PreconditionFailed", [412, "At least one of the preconditions you specified did not hold."]],
  [
    "RequestTimeTooSkewed",
    [403, "The difference between the request time and the current time is too large."],
  ],
  ["ServiceUnavailable", [503, "Please reduce your request rate."]],
  [
    "SignatureDoesNotMatch",
    [
      403,
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    ],
  ],
  ["UnexpectedContent", [400, "This request does not support content."]],
  ["TooManyBuckets", [400, "You have attempted to create more buckets than allowed."]],
  [
    "XAmzContentSHA256Mismatch",
    [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
  ],
]);

/** An S3 error: its code, and extra elements of the <Error> document (BucketName, Key, ...). */
export class S3Error extends ApiError {
  constructor(
    readonly code: string,
    message?: string,
    readonly fields: Record<string, string> = {},
    headers: Record<string, string> = {},
  ) {
    const [status, canned] = CODES.get(code) ?? [400, code];
    super(status, message ?? canned, { code, headers });
  }
}

/** An S3 error with its canned message and extra fields. */
export const s3Error = (code: string, fields: Record<string, string> = {}, message?: string): S3Error =>
  new S3Error(code, message, fields);

/** The S3 code of an error raised outside the S3 layer, by status. */
function codeOf(status: number): string {
  if (status === 404) return "NoSuchKey";
  if (status === 405) return "MethodNotAllowed";
  if (status === 413) return "EntityTooLarge";
  if (status === 401 || status === 403) return "AccessDenied";
  if (status === 412) return "PreconditionFailed";
  if (status === 416) return "InvalidRange";
  if (status === 503) return "ServiceUnavailable";
  if (status >= 500) return "InternalError";
  return "InvalidRequest";
}

/** Render an error as S3's XML document, with the request id. */
export function formatS3Error(err: ApiError, requestId: string): FormattedError {
  const s3 = err instanceof S3Error ? err : null;
  const code = s3?.code ?? codeOf(err.status);
  const message = s3 ? err.message : (CODES.get(code)?.[1] ?? err.message);
  const doc: XmlNode = { Code: code, Message: message, ...(s3?.fields ?? {}), RequestId: requestId };
  // HEAD answers carry no body; S3 clients read the status alone.
  return { body: xmlDocument("Error", doc, false), contentType: "application/xml" };
}

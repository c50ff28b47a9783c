// The S3 API's fixed limits, enforced by its handlers and published in /info under "s3api" (as Swift's s3api).

/** Highest part number (S3's). */
export const MAX_PART_NUMBER = 10000;
/** Most keys one bucket listing returns (max-keys above it is capped). */
export const MAX_BUCKET_LISTING = 1000;
/** Most parts one ListParts page returns. */
export const MAX_PARTS_LISTING = 1000;
/** Most uploads one ListMultipartUploads page returns. */
export const MAX_UPLOADS_LISTING = 1000;
/** Most keys one DeleteObjects request names. */
export const MAX_MULTI_DELETE_OBJECTS = 1000;

/** The "s3api" section of /info: s3api's keys, with this endpoint's values (no S3 ACL emulation: s3_acl false). */
export function s3Info(minPartSize: number): Record<string, unknown> {
  return {
    max_bucket_listing: MAX_BUCKET_LISTING,
    max_parts_listing: MAX_PARTS_LISTING,
    max_upload_part_num: MAX_PART_NUMBER,
    max_multi_delete_objects: MAX_MULTI_DELETE_OBJECTS,
    allow_multipart_uploads: true,
    min_segment_size: minPartSize,
    s3_acl: false,
  };
}

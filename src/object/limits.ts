// Swift's constraints (swift/common/constraints.py defaults): every input the object service takes is bounded by
// these, and /info reports them.

/** The limits of one object service; the defaults are Swift 2.30's. */
export interface ObjectLimits {
  /** Largest object in bytes (5 GiB + 2, as Swift). */
  max_file_size: number;
  max_meta_name_length: number;
  max_meta_value_length: number;
  max_meta_count: number;
  /** Sum of the lengths of every metadata name and value of one resource. */
  max_meta_overall_size: number;
  max_header_size: number;
  /** In bytes of UTF-8, as every name limit here. */
  max_object_name_length: number;
  container_listing_limit: number;
  account_listing_limit: number;
  max_account_name_length: number;
  max_container_name_length: number;
  extra_header_count: number;
}

/** Swift's defaults. */
export const DEFAULT_LIMITS: ObjectLimits = {
  max_file_size: 5 * 1024 * 1024 * 1024 + 2,
  max_meta_name_length: 128,
  max_meta_value_length: 256,
  max_meta_count: 90,
  max_meta_overall_size: 4096,
  max_header_size: 8192,
  max_object_name_length: 1024,
  container_listing_limit: 10000,
  account_listing_limit: 10000,
  max_account_name_length: 256,
  max_container_name_length: 256,
  extra_header_count: 0,
};

/** The Swift release whose API this service follows (reported in /info). */
export const SWIFT_VERSION = "2.30.0";

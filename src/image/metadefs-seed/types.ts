import type { PropertyDef } from "../store/metadefs.js";

/** One namespace of the default catalog. */
export interface SeedNamespace {
  namespace: string;
  display_name: string;
  description: string;
  visibility: "public" | "private";
  protected: boolean;
  resource_type_associations: Array<{ name: string; prefix?: string; properties_target?: string }>;
  properties?: Record<string, PropertyDef>;
  objects?: Array<{
    name: string;
    description: string;
    required?: string[];
    properties: Record<string, PropertyDef>;
  }>;
  tags?: string[];
}

/** Resource-type associations shared by many compute namespaces: images (hw_), volumes' image metadata, flavors (hw:). */
export const IMAGE_VOLUME_FLAVOR = [
  { name: "OS::Glance::Image", prefix: "hw_" },
  { name: "OS::Cinder::Volume", prefix: "hw_", properties_target: "image" },
  { name: "OS::Nova::Flavor", prefix: "hw:" },
];

/** A string property limited to some values. */
export const choice = (
  title: string,
  description: string,
  values: string[],
  extra: PropertyDef = {},
): PropertyDef => ({
  title,
  description,
  type: "string",
  enum: values,
  ...extra,
});

/** An integer property. */
export const int = (title: string, description: string, extra: PropertyDef = {}): PropertyDef => ({
  title,
  description,
  type: "integer",
  ...extra,
});

/** A free string property. */
export const str = (title: string, description: string, extra: PropertyDef = {}): PropertyDef => ({
  title,
  description,
  type: "string",
  ...extra,
});

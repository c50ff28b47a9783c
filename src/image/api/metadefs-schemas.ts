// JSON schemas of the Metadata Definitions catalog: served under /v2/schemas/metadefs/* and used to validate
// request bodies (the same documents, as Glance does). The structure follows Glance's so clients that read
// these schemas (Horizon, glanceclient) see the fields they expect; the descriptions are Stratus's own.
import { Ajv, type ValidateFunction } from "ajv";
import { ApiError, badRequest } from "../../shared/http/errors.js";

type Json = Record<string, unknown>;

const TYPES = ["array", "boolean", "integer", "number", "object", "string", null];

const timestamp = (what: string): Json => ({
  type: "string",
  readOnly: true,
  description: what,
  format: "date-time",
});

/** The fields a property definition may have (a subset of JSON schema plus Glance's extras). */
function propertyFields(): Json {
  return {
    name: { type: "string", maxLength: 80 },
    title: { type: "string" },
    description: { type: "string" },
    operators: { type: "array", items: { type: "string" } },
    type: { type: "string", enum: TYPES },
    required: { $ref: "#/definitions/stringArray" },
    minimum: { type: "number" },
    maximum: { type: "number" },
    maxLength: { $ref: "#/definitions/positiveInteger" },
    minLength: { $ref: "#/definitions/positiveIntegerDefault0" },
    pattern: { type: "string", format: "regex" },
    enum: { type: "array" },
    readonly: { type: "boolean" },
    default: {},
    items: {
      type: "object",
      properties: { type: { type: "string", enum: TYPES }, enum: { type: "array" } },
    },
    maxItems: { $ref: "#/definitions/positiveInteger" },
    minItems: { $ref: "#/definitions/positiveIntegerDefault0" },
    uniqueItems: { type: "boolean", default: false },
    additionalItems: { type: "boolean" },
  };
}

/** Names of the attributes a stored property definition keeps (besides its name). */
export const PROPERTY_KEYS = [
  "title",
  "description",
  "operators",
  "type",
  "default",
  "readonly",
  "minimum",
  "maximum",
  "enum",
  "pattern",
  "minLength",
  "maxLength",
  "confidential",
  "items",
  "uniqueItems",
  "minItems",
  "maxItems",
  "additionalItems",
];

function baseDefinitions(stringArrayMinItems: boolean): Json {
  return {
    positiveInteger: { type: "integer", minimum: 0 },
    positiveIntegerDefault0: { allOf: [{ $ref: "#/definitions/positiveInteger" }, { default: 0 }] },
    stringArray: {
      type: "array",
      items: { type: "string" },
      ...(stringArrayMinItems ? { minItems: 1 } : {}),
      uniqueItems: true,
    },
  };
}

function namespaceDefinitions(): Json {
  return {
    ...baseDefinitions(false),
    property: {
      type: "object",
      additionalProperties: { type: "object", required: ["title", "type"], properties: propertyFields() },
    },
  };
}

/** A single-entity schema as Glance renders it: closed, named, with its required list and definitions. */
function entity(name: string, properties: Json, required: string[], definitions?: Json): Json {
  return {
    name,
    properties,
    additionalProperties: false,
    ...(definitions ? { definitions } : {}),
    ...(required.length ? { required } : {}),
  };
}

/** A collection schema (an array of entities, with first/next/schema links). */
function collection(name: string, item: Json, dict = false): Json {
  const { definitions, ...itemNoDefs } = item;
  return {
    name,
    properties: {
      [name]: dict
        ? { type: "object", additionalProperties: itemNoDefs }
        : { type: "array", items: itemNoDefs },
      first: { type: "string" },
      next: { type: "string" },
      schema: { type: "string" },
    },
    links: [
      { rel: "first", href: "{first}" },
      { rel: "next", href: "{next}" },
      { rel: "describedby", href: "{schema}" },
    ],
    ...(definitions ? { definitions } : {}),
  };
}

export function namespaceSchema(): Json {
  return entity(
    "namespace",
    {
      namespace: { type: "string", description: "Unique name of the namespace.", maxLength: 80 },
      display_name: {
        type: "string",
        description: "A human-friendly name for the namespace, shown by user interfaces.",
        maxLength: 80,
      },
      description: { type: "string", description: "What the namespace is about.", maxLength: 500 },
      visibility: {
        type: "string",
        description: "Who can see the namespace: everyone (public) or only its owner (private).",
        enum: ["public", "private"],
      },
      protected: { type: "boolean", description: "When true the namespace cannot be deleted." },
      owner: { type: "string", description: "The project owning the namespace.", maxLength: 255 },
      created_at: timestamp("When the namespace was created."),
      updated_at: timestamp("When the namespace last changed."),
      schema: { readOnly: true, type: "string" },
      self: { readOnly: true, type: "string" },
      resource_type_associations: {
        type: "array",
        items: {
          type: "object",
          properties: {
            name: { type: "string" },
            prefix: { type: "string" },
            properties_target: { type: "string" },
          },
        },
      },
      properties: { $ref: "#/definitions/property" },
      objects: {
        type: "array",
        items: {
          type: "object",
          properties: {
            name: { type: "string" },
            description: { type: "string" },
            required: { $ref: "#/definitions/stringArray" },
            properties: { $ref: "#/definitions/property" },
          },
        },
      },
      tags: { type: "array", items: { type: "object", properties: { name: { type: "string" } } } },
    },
    ["namespace"],
    namespaceDefinitions(),
  );
}

export function objectSchema(): Json {
  return entity(
    "object",
    {
      name: { type: "string", maxLength: 80 },
      description: { type: "string" },
      required: { $ref: "#/definitions/stringArray" },
      properties: { $ref: "#/definitions/property" },
      schema: { readOnly: true, type: "string" },
      self: { readOnly: true, type: "string" },
      created_at: timestamp("When the object was created."),
      updated_at: timestamp("When the object last changed."),
    },
    ["name"],
    namespaceDefinitions(),
  );
}

export function propertySchema(requireName = true): Json {
  return entity(
    "property",
    propertyFields(),
    requireName ? ["type", "title", "name"] : ["type", "title"],
    baseDefinitions(true),
  );
}

export function resourceTypeSchema(): Json {
  return entity(
    "resource_type_association",
    {
      name: {
        type: "string",
        description:
          "Name of the resource type, following Heat's resource type names where one exists (OS::Nova::Flavor).",
        maxLength: 80,
      },
      prefix: {
        type: "string",
        description:
          "Prefix to put before the namespace's property names when they are applied to this resource type; it includes its separator (hw_, hw:).",
        maxLength: 80,
      },
      properties_target: {
        type: "string",
        description:
          "For resource types with several sets of key/value pairs (a Cinder volume has its metadata and its image metadata), which set the properties belong to.",
        maxLength: 80,
      },
      created_at: timestamp("When the association was created."),
      updated_at: timestamp("When the association last changed."),
    },
    ["name"],
  );
}

export function tagSchema(): Json {
  return entity(
    "tag",
    {
      name: { type: "string", maxLength: 80 },
      created_at: timestamp("When the tag was created."),
      updated_at: timestamp("When the tag last changed."),
    },
    ["name"],
  );
}

/** Body of POST /tags: {"tags": [{"name": ...}]}. */
function tagListSchema(): Json {
  return entity(
    "tags",
    {
      tags: {
        type: "array",
        items: {
          type: "object",
          properties: { name: { type: "string" } },
          required: ["name"],
          additionalProperties: false,
        },
      },
    },
    [],
  );
}

/** The documents served at /v2/schemas/metadefs/{name}. */
export function metadefSchemaDocs(): Record<string, Json> {
  const rt = resourceTypeSchema();
  const prop = propertySchema();
  const propInCollection = { ...prop, required: ["type", "title"] };
  return {
    namespace: namespaceSchema(),
    namespaces: collection("namespaces", namespaceSchema()),
    resource_type: rt,
    resource_types: collection("resource_type_associations", rt),
    object: objectSchema(),
    objects: collection("objects", objectSchema()),
    property: prop,
    properties: collection("properties", propInCollection, true),
    tag: tagSchema(),
    tags: collection("tags", tagSchema()),
  };
}

// Validation: a private Ajv without defaults (uniqueItems: false must not be written into requests) and
// without format checks (Glance validates neither).
const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: false, validateFormats: false });

/** Compiled request validators, by schema. */
export const validators: Record<
  "namespace" | "object" | "property" | "propertyNoName" | "resource_type" | "tag" | "tags",
  ValidateFunction
> = {
  namespace: ajv.compile(namespaceSchema()),
  object: ajv.compile(objectSchema()),
  property: ajv.compile(propertySchema()),
  propertyNoName: ajv.compile(propertySchema(false)),
  resource_type: ajv.compile(resourceTypeSchema()),
  tag: ajv.compile(tagSchema()),
  tags: ajv.compile(tagListSchema()),
};

/** Validate a body against a schema; a mismatch is a 400 naming the schema and the offending field. */
export function check(v: ValidateFunction, schemaName: string, body: unknown): void {
  if (v(body)) return;
  const e = v.errors?.[0];
  let reason = "invalid value";
  if (e) {
    const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, ".") : "";
    if (e.keyword === "additionalProperties")
      reason = `Additional properties are not allowed ('${String(e.params.additionalProperty)}' was unexpected)`;
    else if (e.keyword === "required")
      reason = `'${String(e.params.missingProperty)}' is a required property`;
    else reason = `${at ? `'${at}' ` : ""}${e.message ?? "is invalid"}`;
    if (at && (e.keyword === "additionalProperties" || e.keyword === "required")) reason += ` in '${at}'`;
  }
  throw badRequest(`Provided object does not match schema '${schemaName}': ${reason}`);
}

/** 403 for attributes a client may not set (Glance: "Attribute 'x' is read-only."). */
export function checkReadOnly(body: Record<string, unknown>, keys: string[]): void {
  for (const k of keys) if (k in body) throw new ApiError(403, `Attribute '${k}' is read-only.`);
}

import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

// Bodies are validated strictly (no coercion, unknown fields kept so closed schemas reject them);
// query strings and path params are coerced from strings.
const bodyAjv = new Ajv({
  allErrors: false,
  coerceTypes: false,
  useDefaults: true,
  removeAdditional: false,
  strict: false,
});
const paramAjv = new Ajv({
  allErrors: false,
  coerceTypes: "array",
  useDefaults: true,
  removeAdditional: false,
  strict: false,
});
for (const fmt of ["date-time", "uri", "email", "uuid", "ipv4", "ipv6", "hostname", "regex", "date"]) {
  bodyAjv.addFormat(fmt, true);
  paramAjv.addFormat(fmt, true);
}

/** Compile a JSON schema for a part of the request. */
export function compileValidator(
  schema: object,
  part: "body" | "params" | "query" | "headers",
): ValidateFunction {
  return part === "body" ? bodyAjv.compile(schema) : paramAjv.compile(schema);
}

/** Turn the first ajv error into a human message in the style of OpenStack's jsonschema errors. */
export function describeValidationError(errors: ErrorObject[] | null | undefined, part: string): string {
  const e = errors?.[0];
  if (!e) return "Invalid input.";
  const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, ".") : part;
  switch (e.keyword) {
    case "additionalProperties":
      return `Invalid input for field '${field}': Additional properties are not allowed ('${String(e.params.additionalProperty)}' was unexpected)`;
    case "required":
      return `Invalid input for field '${field}': '${String(e.params.missingProperty)}' is a required property`;
    case "type":
      return `Invalid input for field '${field}': value is not of type '${String(e.params.type)}'`;
    case "enum":
      return `Invalid input for field '${field}': value is not one of ${JSON.stringify(e.params.allowedValues)}`;
    case "maxLength":
      return `Invalid input for field '${field}': value is too long (maximum ${String(e.params.limit)} characters)`;
    case "minLength":
      return `Invalid input for field '${field}': value is too short (minimum ${String(e.params.limit)} characters)`;
    case "pattern":
      return `Invalid input for field '${field}': value does not match '${String(e.params.pattern)}'`;
    default:
      return `Invalid input for field '${field}': ${e.message ?? "invalid value"}`;
  }
}

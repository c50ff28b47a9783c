// The error every API call throws when the server refuses, carrying the service's own message.

/** A refused API call: HTTP status and the message the service gave (Nova, Keystone, Neutron, Glance, Cinder). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly service: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The message inside an OpenStack error body, whichever service's shape it has; null when none is found. */
export function errorMessage(body: unknown): string | null {
  if (!body || typeof body !== "object") return null;
  const b = body as Record<string, unknown>;
  // Keystone {"error":{"message"}}, Neutron {"NeutronError":{"message"}}, Nova/Cinder {"badRequest":{"message"}}.
  for (const v of Object.values(b)) {
    if (v && typeof v === "object" && typeof (v as { message?: unknown }).message === "string")
      return (v as { message: string }).message;
  }
  // Glance (webob): {"message": "...", "code": "...", "title": "..."}; placement: {"errors":[{"detail"}]}.
  if (typeof b.message === "string") return b.message;
  if (Array.isArray(b.errors) && b.errors[0] && typeof b.errors[0].detail === "string")
    return b.errors[0].detail;
  if (typeof b.detail === "string") return b.detail;
  return null;
}

/** Parse a failed response's body (JSON or text) into an ApiError. */
export async function toApiError(
  res: { status: number; text(): Promise<string> },
  service: string,
): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  let msg: string | null = null;
  try {
    msg = errorMessage(JSON.parse(text));
  } catch {
    // Glance answers some errors as text/html or plain text: keep its first line.
    msg =
      text
        .replace(/<[^>]*>/g, " ")
        .replace(/\s+/g, " ")
        .trim()
        .slice(0, 300) || null;
  }
  return new ApiError(res.status, msg ?? `${service} answered HTTP ${res.status}`, service);
}

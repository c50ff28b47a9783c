import { STATUS_TITLES, type ApiError } from "./errors.js";

/** A rendered error body and its content type. */
export type FormattedError = { body: unknown; contentType?: string };

const NOVA_NAMES: Record<number, string> = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "badMethod",
  409: "conflictingRequest",
  413: "overLimit",
  415: "badMediaType",
  429: "overLimit",
  501: "notImplemented",
  503: "serviceUnavailable",
};

/** Nova and Cinder: {"itemNotFound": {"code": 404, "message": "..."}}. */
export function novaError(err: ApiError): FormattedError {
  const name = NOVA_NAMES[err.status] ?? "computeFault";
  return { body: { [name]: { code: err.status, message: err.message } } };
}

const NEUTRON_TYPES: Record<number, string> = {
  400: "HTTPBadRequest",
  401: "HTTPUnauthorized",
  403: "HTTPForbidden",
  404: "HTTPNotFound",
  405: "HTTPMethodNotAllowed",
  409: "HTTPConflict",
  413: "HTTPRequestEntityTooLarge",
  415: "HTTPUnsupportedMediaType",
  500: "HTTPInternalServerError",
  503: "HTTPServiceUnavailable",
};

/** Neutron: {"NeutronError": {"type": "NetworkNotFound", "message": "...", "detail": ""}}. */
export function neutronError(err: ApiError): FormattedError {
  return {
    body: {
      NeutronError: {
        type: err.extra.type ?? NEUTRON_TYPES[err.status] ?? "HTTPError",
        message: err.message,
        detail: "",
      },
    },
  };
}

/** Placement: {"errors": [{"status", "title", "detail", "request_id", "code"}]}. */
export function placementError(err: ApiError, requestId: string): FormattedError {
  return {
    body: {
      errors: [
        {
          status: err.status,
          title: err.extra.title ?? STATUS_TITLES[err.status] ?? "Error",
          detail: err.message,
          request_id: requestId,
          code: err.extra.code ?? "placement.undefined_code",
        },
      ],
    },
  };
}

/** Keystone: {"error": {"code": 404, "title": "Not Found", "message": "..."}}. */
export function keystoneError(err: ApiError): FormattedError {
  return {
    body: {
      error: {
        code: err.status,
        title: err.extra.title ?? STATUS_TITLES[err.status] ?? "Error",
        message: err.message,
      },
    },
  };
}

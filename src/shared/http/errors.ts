/** An error an API handler throws; each service's formatter turns it into that service's own error body. */
export class ApiError extends Error {
  constructor(
    /** HTTP status code. */
    readonly status: number,
    message: string,
    /** Optional extras: a machine-readable code (placement.*), a type name (Neutron), a title override. */
    readonly extra: { code?: string; type?: string; title?: string; headers?: Record<string, string> } = {},
  ) {
    // A client error is an answer, not a fault: no stack trace (capturing one costs more than the rest of a 404).
    const limit = Error.stackTraceLimit;
    if (status < 500) Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = "ApiError";
  }
}

/** Standard reason phrases used as error titles. */
export const STATUS_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  413: "Request Entity Too Large",
  415: "Unsupported Media Type",
  416: "Requested Range Not Satisfiable",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

/** 400 with a message. */
export const badRequest = (msg: string): ApiError => new ApiError(400, msg);
/** 401 with a message. */
export const unauthorized = (msg = "The request you have made requires authentication."): ApiError =>
  new ApiError(401, msg);
/** 403 with a message. */
export const forbidden = (msg = "You are not authorized to perform the requested action."): ApiError =>
  new ApiError(403, msg);
/** 404 with a message. */
export const notFound = (msg: string): ApiError => new ApiError(404, msg);
/** 409 with a message. */
export const conflict = (msg: string): ApiError => new ApiError(409, msg);

// Every Tessera API answers errors in one shape: {"error": {"code", "message", "fields": [{"field", "reason"}]}}.
// The generated clients throw whatever body came back; the interceptor in ./clients turns it into an ApiError.

export interface FieldError {
  field: string;
  reason: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[];
  /** Seconds to wait, from a 429's Retry-After. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, fields: FieldError[] = [], retryAfter: number | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : fallback;
}

function readFields(value: unknown): FieldError[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((f) => ({ field: text(f.field), reason: text(f.reason) }));
}

const FALLBACK: Record<number, string> = {
  0: "The console did not answer. Check your connection and try again.",
  401: "Your session has ended. Log in again.",
  403: "You are not allowed to do this.",
  404: "Not found.",
  502: "A service did not answer. Try again in a moment.",
  504: "A service took too long to answer. Try again in a moment.",
};

/** The ApiError for an error body (any shape) and the response it came with (none when the network failed). */
export function toApiError(body: unknown, response?: Response): ApiError {
  if (body instanceof ApiError) return body;
  const status = response?.status ?? 0;
  const retry = Number(response?.headers.get("retry-after"));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : null;
  const error = isRecord(body) && isRecord(body.error) ? body.error : null;
  if (error) {
    const message = typeof error.message === "string" && error.message ? error.message : (FALLBACK[status] ?? "Error");
    return new ApiError(status, text(error.code, "error"), message, readFields(error.fields), retryAfter);
  }
  if (body instanceof Error) return new ApiError(status, "network", FALLBACK[0] ?? body.message);
  const plain = typeof body === "string" && body.length < 300 ? body : "";
  return new ApiError(status, "error", FALLBACK[status] ?? (plain || `The request failed (HTTP ${status}).`), [], retryAfter);
}

/** A message to show for any error a query or mutation raised. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429 && error.retryAfter) return `${error.message} Try again in ${error.retryAfter} s.`;
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof ApiError && error.status === status;
}

/**
 * The field errors of an ApiError keyed by field name, relative to `prefix` ("definition" → "and[0].op").
 * Fields outside the prefix are left out; with no prefix every field is returned.
 */
export function fieldErrors(error: unknown, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof ApiError)) return out;
  for (const { field, reason } of error.fields) {
    // pydantic locations start with "body." (the request body); the services' own checks name the field itself.
    const name = field.startsWith("body.") ? field.slice(5) : field;
    if (!prefix) out[name] = reason;
    else if (name === prefix) out[""] = reason;
    else if (name.startsWith(`${prefix}.`)) out[name.slice(prefix.length + 1)] = reason;
  }
  return out;
}

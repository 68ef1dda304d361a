// What the Databricks REST stand-in answers with when a request is wrong: Databricks' `{error_code, message}` errors,
// and the checks on request bodies and workspace paths that raise them.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function parseBody(text: string): Record<string, unknown> {
  try {
    const body = JSON.parse(text || '{}') as unknown;
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new ApiError(400, 'MALFORMED_REQUEST', 'The request body is not a JSON object.');
}

export function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '')
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Missing required field: ${key}`);
  return value;
}

export function absolutePath(path: string): void {
  if (!path.startsWith('/') || path.split('/').some((p, i) => i > 0 && (p === '' || p === '.' || p === '..')))
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Path (${path}) must be absolute and normalized.`);
}

export function runNotFound(id: string | null): ApiError {
  return new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Run ${id ?? ''} does not exist.`);
}

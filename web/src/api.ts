/** The Rights Ledger HTTP API as the web app uses it: same origin, JSON, `{ error }` on failure. */
export interface TypedDataPayload {
  domain: Record<string, string>;
  types: Record<string, { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

/** An answer in the API's error shape, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let sessionToken: string | null = null;

/** Sends `Authorization: Bearer …` with every later request (null signs out). */
export function setSessionToken(token: string | null): void {
  sessionToken = token;
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Calls the API and answers the parsed JSON; throws {@link ApiError} on any failure. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await raw(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Like {@link api} but answers the response itself (for downloads). */
export async function raw(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (sessionToken && !headers.authorization) headers.authorization = `Bearer ${sessionToken}`;
  let body: BodyInit | undefined;
  if (options.form) body = options.form;
  else if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (body ? "POST" : "GET"),
      headers,
      body,
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "NETWORK", "The server could not be reached. Check your connection and retry.");
  }
  if (!response.ok) {
    const payload = (await response.json().catch(() => null)) as {
      error?: { code?: string; message?: string; details?: unknown };
    } | null;
    throw new ApiError(
      response.status,
      payload?.error?.code ?? `HTTP_${response.status}`,
      payload?.error?.message ?? `The server answered ${response.status} ${response.statusText}`,
      payload?.error?.details ?? null,
    );
  }
  return response;
}

/** Builds a query string from the defined values. */
export function query(values: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The server has no such route: a feature this deployment does not offer yet. */
export function isUnavailable(err: unknown): boolean {
  return err instanceof ApiError && err.code === "ROUTE_NOT_FOUND";
}

/** A message fit for people, from anything thrown. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err === null || err === undefined) return "Something went wrong.";
  const wallet = err as { shortMessage?: string; info?: { error?: { message?: string } }; message?: string };
  return wallet.info?.error?.message ?? wallet.shortMessage ?? wallet.message ?? String(err);
}

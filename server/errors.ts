import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";

/**
 * The platform's errors, one tree: a user error (AppError: the caller's request, answered with its
 * HTTP status), a passing fault (DeferredError: try again later, spending nothing), a permanent
 * fault (PermanentError: trying again cannot help). Anything else is a fault that may pass, retried
 * with backoff by jobs and answered 500 by the API. The HTTP translation is `errorHandler` below;
 * the queue translation is in jobs/job-worker.ts.
 */

/** An error a service throws on purpose; the error middleware answers it as JSON with its status. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = "AppError";
  }
}

/**
 * A job cannot go on yet for a reason of the platform's own that passes by itself (the relayer
 * resynchronizing after a crash, its lock busy, a mint not settled): the job is put back to run
 * again after `retryInMs` without spending one of its attempts.
 */
export class DeferredError extends Error {
  constructor(
    message: string,
    readonly retryInMs = 1000,
  ) {
    super(message);
    this.name = "DeferredError";
  }
}

/**
 * A fault that trying again cannot mend (a known revert, a record that does not exist): the job
 * fails at once instead of retrying. The job worker translates it to the queue's terms.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PermanentError";
  }
}

export const notFound = (what: string, details: unknown = null): AppError =>
  new AppError("NOT_FOUND", 404, `${what} not found`, details);

/** Unknown routes answer 404 in the API's error shape. */
export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new AppError("ROUTE_NOT_FOUND", 404, `no route for ${req.method} ${req.path}`));
};

interface HttpErrorLike {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/** The API's error body. */
export interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

/**
 * Any error as the API answers it, `{ error: { code, message, details } }` with its status;
 * unexpected ones are logged with the request id and answered 500 with no internals.
 */
export function errorAnswer(
  err: unknown,
  requestId: string,
  logger: Logger,
): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    return {
      status: err.status,
      body: { error: { code: err.code, message: err.message, details: err.details } },
    };
  }
  const pgCode = (err as { code?: unknown }).code;
  if (pgCode === "22021" || pgCode === "22P05") {
    // PostgreSQL refuses NUL characters in text: bad input, not a fault.
    return {
      status: 400,
      body: {
        error: { code: "VALIDATION_FAILED", message: "text must not contain NUL characters", details: null },
      },
    };
  }
  const httpError = err as HttpErrorLike;
  const status = httpError.status ?? httpError.statusCode;
  if (status && status >= 400 && status < 500 && httpError.expose !== false) {
    // body-parser and friends: malformed JSON, payload too large, unsupported charset.
    const code = (httpError.type ?? "bad_request").toUpperCase().replace(/\./g, "_");
    return { status, body: { error: { code, message: httpError.message ?? "bad request", details: null } } };
  }
  logger.error({ err, requestId }, "unhandled error");
  return {
    status: 500,
    body: { error: { code: "INTERNAL", message: "internal error", details: { requestId } } },
  };
}

/** Express's error middleware: every error answered as errorAnswer says. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { status, body } = errorAnswer(err, String(req.id ?? ""), logger);
    res.status(status).json(body);
  };
}

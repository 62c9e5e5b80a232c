import type { Request, Response, Router } from "express";
import type { z } from "zod";
import { AppError } from "../errors.ts";
import type { OpenApiRegistry, RouteSpec } from "./openapi.ts";

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteInput<S extends RouteSpec> {
  params: Infer<S["params"]>;
  query: Infer<S["query"]>;
  body: Infer<S["body"]>;
  req: Request;
  res: Response;
}

/** Parses `value` with `schema`, or throws a 400 naming every problem. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new AppError(
    "VALIDATION_FAILED",
    400,
    `invalid ${where}: ${result.error.issues.map((i) => `${i.path.join(".") || where} ${i.message}`).join("; ")}`,
    result.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join("."), message: i.message })),
  );
}

/**
 * Registers a route: validates params, query and body with the spec's schemas, calls `handler`,
 * and answers its result as JSON with the first 2xx status of the spec. A handler that writes the
 * response itself returns `undefined`.
 */
export function route<S extends RouteSpec>(
  router: Router,
  registry: OpenApiRegistry,
  spec: S,
  handler: (input: RouteInput<S>) => Promise<unknown> | unknown,
): void {
  registry.add(spec);
  const success = Number(Object.keys(spec.responses).find((s) => s.startsWith("2")) ?? 200);
  router[spec.method](spec.path, async (req, res) => {
    const input = {
      params: (spec.params ? parseInput(spec.params, req.params, "params") : undefined) as Infer<S["params"]>,
      query: (spec.query ? parseInput(spec.query, req.query, "query") : undefined) as Infer<S["query"]>,
      body: (spec.body ? parseInput(spec.body, req.body ?? {}, "body") : undefined) as Infer<S["body"]>,
      req,
      res,
    };
    const result = await handler(input);
    if (result !== undefined && !res.headersSent) res.status(success).json(result);
  });
}

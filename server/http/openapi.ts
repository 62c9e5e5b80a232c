import { z } from "zod";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";
/** How a route may be called; `anonymous` beside another means the credential is needed only for some requests. */
export type Security = "anonymous" | "session" | "apiKey" | "orderSecret";

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

/** What a route declares once; used for validation, types and the OpenAPI document. */
export interface RouteSpec {
  method: HttpMethod;
  /** Express-style path, e.g. `/v1/works/:id`. */
  path: string;
  summary: string;
  tags: string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Body content type when not JSON (e.g. multipart/form-data); documented only. */
  bodyContentType?: string;
  security?: Security[];
  responses: Record<number, ResponseSpec>;
}

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe("stable machine-readable code"),
      message: z.string(),
      details: z.unknown(),
    }),
  })
  .meta({ id: "Error" });

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
    reused: "inline",
  }) as Record<string, unknown>;
  return rest;
}

function parameters(schema: z.ZodObject | undefined, location: "path" | "query"): unknown[] {
  if (!schema) return [];
  const shape = jsonSchema(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(shape.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === "path" || (shape.required ?? []).includes(name),
    schema: property,
  }));
}

/** Collects route specs and renders an OpenAPI 3.1 document (JSON Schema 2020-12 from the zod schemas). */
export class OpenApiRegistry {
  readonly #routes: RouteSpec[] = [];

  add(spec: RouteSpec): void {
    this.#routes.push(spec);
  }

  document(info: { title: string; version: string; description: string }, serverUrl: string): object {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of this.#routes) {
      const path = route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
      const responses: Record<string, unknown> = {};
      for (const [status, response] of Object.entries(route.responses)) {
        responses[status] = {
          description: response.description,
          ...(response.schema
            ? {
                content: {
                  [response.contentType ?? "application/json"]: {
                    schema: jsonSchema(response.schema, "output"),
                  },
                },
              }
            : {}),
        };
      }
      responses.default = {
        description: "Error",
        content: { "application/json": { schema: jsonSchema(errorSchema, "output") } },
      };
      paths[path] ??= {};
      paths[path][route.method] = {
        summary: route.summary,
        tags: route.tags,
        parameters: [...parameters(route.params, "path"), ...parameters(route.query, "query")],
        ...(route.body || route.bodyContentType
          ? {
              requestBody: {
                required: true,
                content: {
                  [route.bodyContentType ?? "application/json"]: {
                    schema: route.body ? jsonSchema(route.body, "input") : { type: "object" },
                  },
                },
              },
            }
          : {}),
        ...(route.security
          ? { security: route.security.map((s) => (s === "anonymous" ? {} : { [s]: [] })) }
          : {}),
        responses,
      };
    }
    return {
      openapi: "3.1.0",
      info,
      servers: [{ url: serverUrl }],
      paths,
      components: {
        securitySchemes: {
          session: {
            type: "http",
            scheme: "bearer",
            bearerFormat: "JWT",
            description: "Sign-In with Ethereum session",
          },
          apiKey: { type: "apiKey", in: "header", name: "X-Api-Key" },
          orderSecret: {
            type: "apiKey",
            in: "header",
            name: "X-Order-Secret",
            description: "the order secret the checkout answered (also accepted as ?secret=)",
          },
        },
      },
    };
  }
}

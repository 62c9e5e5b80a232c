import fc from "fast-check";

/** The part of JSON Schema 2020-12 the API's documents use. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
}

const FORMATS: Record<string, () => fc.Arbitrary<string>> = {
  uuid: () => fc.uuid(),
  "date-time": () => fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  uri: () => fc.webUrl(),
};

function stringOf(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.format && FORMATS[schema.format]) return FORMATS[schema.format]!();
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern));
    } catch {
      // A pattern fast-check cannot invert: any string will do, the API refuses it.
    }
  }
  return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 200) });
}

/** Values of `schema`: what a client that read the document could send (and some it could not). */
export function arbitraryOf(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.anything({ maxDepth: 1 });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map((s) => arbitraryOf(s, depth + 1)));
  if (schema.allOf?.[0]) return arbitraryOf(schema.allOf[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return stringOf(schema);
    case "integer":
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000_000 });
    case "number":
      return fc.double({ min: schema.minimum, max: schema.maximum, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return fc.array(arbitraryOf(schema.items, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 8),
      });
    case "object": {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties))
        record[name] = arbitraryOf(property, depth + 1);
      return fc.record(record, {
        requiredKeys: Object.keys(properties).filter((name) => required.has(name)),
      });
    }
    default:
      return fc.anything({ maxDepth: 1 });
  }
}

/** A value of another JSON type than `schema` asks for. */
export function wrongTypeOf(schema: JsonSchema | undefined): unknown[] {
  const types = new Set(
    [schema, ...(schema?.anyOf ?? []), ...(schema?.oneOf ?? [])].flatMap((s) =>
      s?.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type],
    ),
  );
  if (types.has("number")) types.add("integer");
  if (schema?.enum) for (const v of schema.enum) types.add(v === null ? "null" : typeof v);
  const all: Record<string, unknown> = {
    string: "not-what-you-want",
    number: 12.5,
    integer: -7,
    boolean: true,
    array: [1, "two", null],
    object: { nested: { deeper: [] } },
    null: null,
  };
  return Object.entries(all)
    .filter(([name]) => !types.has(name))
    .map(([, value]) => value);
}

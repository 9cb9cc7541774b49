/**
 * Requests derived from an OpenAPI document, for property tests: for every operation, valid
 * requests (path and query parameters and JSON bodies drawn from their schemas) and requests with
 * one thing wrong (a parameter, a body field, a missing or unexpected field, the whole body, its
 * content type), each saying which field it broke.
 */
import { FastCheck as fc } from "effect"

type JsonSchema = Readonly<Record<string, unknown>>

interface Parameter {
  readonly name: string
  readonly in: "path" | "query" | "header" | "cookie"
  readonly required?: boolean
  readonly schema: JsonSchema
}

export interface Operation {
  readonly method: string
  /** the path template, like /api/v1/zones/{id} */
  readonly path: string
  readonly parameters: ReadonlyArray<Parameter>
  /** the schema of its JSON body, if it takes one */
  readonly body: JsonSchema | undefined
  readonly bodyRequired: boolean
}

export interface Request {
  readonly operation: Operation
  readonly method: string
  readonly url: string
  /** the raw body and its content type; none: no body */
  readonly body?: { readonly text: string; readonly contentType: string }
  /** what was broken, the field it names (none for a body that is not one), and the request it was made from */
  readonly mutation?: { readonly kind: string; readonly field?: string; readonly base: Request }
}

export interface OpenApiDocument {
  readonly paths: Record<string, Record<string, Record<string, unknown>>>
  readonly components: { readonly schemas: Record<string, JsonSchema> }
}

export const operations = (document: OpenApiDocument): ReadonlyArray<Operation> =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => {
      const requestBody = operation["requestBody"] as
        | { readonly required?: boolean; readonly content: Record<string, { readonly schema: JsonSchema }> }
        | undefined
      return {
        method: method.toUpperCase(),
        path,
        parameters: (operation["parameters"] ?? []) as ReadonlyArray<Parameter>,
        body: requestBody?.content["application/json"]?.schema,
        bodyRequired: requestBody?.required === true
      }
    })
  )

/** The schema with its `$ref`s and single `allOf`s resolved; sibling keywords (bounds) win. */
const resolve = (document: OpenApiDocument, schema: JsonSchema): JsonSchema => {
  const { $ref, allOf, ...rest } = schema as JsonSchema & { $ref?: string; allOf?: ReadonlyArray<JsonSchema> }
  if ($ref !== undefined) {
    const target = document.components.schemas[$ref.replace("#/components/schemas/", "")]!
    return { ...resolve(document, target), ...rest, ref: $ref }
  }
  if (allOf?.length === 1) return { ...resolve(document, allOf[0]!), ...rest }
  return schema
}

const numberBounds = (schema: JsonSchema, min: number, max: number) => ({
  min: typeof schema["minimum"] === "number"
    ? schema["minimum"]
    : typeof schema["exclusiveMinimum"] === "number"
    ? schema["exclusiveMinimum"] + 1
    : min,
  max: typeof schema["maximum"] === "number" ? schema["maximum"] : max
})

/** Values of a JSON schema; numbers in strings for a `NumberFromString`, small ids for id patterns. */
export const arbitrary = (document: OpenApiDocument, raw: JsonSchema): fc.Arbitrary<unknown> => {
  const schema = resolve(document, raw)
  if (Array.isArray(schema["enum"])) return fc.constantFrom(...(schema["enum"] as ReadonlyArray<unknown>))
  if (schema["type"] === "object") return objectArbitrary(document, schema)
  for (const key of ["anyOf", "oneOf"]) {
    const members = schema[key] as ReadonlyArray<JsonSchema> | undefined
    if (members !== undefined) return fc.oneof(...members.map((member) => arbitrary(document, member)))
  }
  switch (schema["type"]) {
    case "null":
      return fc.constant(null)
    case "boolean":
      return fc.boolean()
    case "integer": {
      const { max, min } = numberBounds(schema, -5, 50)
      return fc.integer({ min, max })
    }
    case "number": {
      const { max, min } = numberBounds(schema, -1000, 1000)
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
    }
    case "array":
      return fc.array(arbitrary(document, (schema["items"] ?? {}) as JsonSchema), { maxLength: 4 })
    case "string": {
      if (schema["ref"] === "#/components/schemas/NumberFromString") {
        return fc.oneof(
          fc.integer({ min: 1, max: 20 }).map(String),
          fc.double({ min: -50, max: 150, noNaN: true }).map(String)
        )
      }
      if (schema["format"] === "date-time") {
        return fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2030-01-01T00:00:00Z") })
          .map((date) => date.toISOString())
      }
      // ids: small, so that requests find what the others created
      if (typeof schema["pattern"] === "string" && schema["pattern"].startsWith("^[1-9]")) {
        return fc.integer({ min: 1, max: 6 }).map(String)
      }
      if (typeof schema["pattern"] === "string" && schema["pattern"].startsWith("^(0|")) {
        return fc.integer({ min: 0, max: 6 }).map(String)
      }
      if (typeof schema["pattern"] === "string") return fc.stringMatching(new RegExp(schema["pattern"]))
      return fc.string({ minLength: 1, maxLength: 20 })
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

interface Form {
  readonly required?: ReadonlyArray<string>
  readonly not?: { readonly anyOf?: ReadonlyArray<{ readonly required: ReadonlyArray<string> }> }
}

/**
 * Objects of a schema; when it has `oneOf` forms (sets of fields that go together, and those that
 * may not come with them), of one of its forms.
 */
const objectArbitrary = (document: OpenApiDocument, schema: JsonSchema): fc.Arbitrary<unknown> => {
  const properties = (schema["properties"] ?? {}) as Record<string, JsonSchema>
  const required = (schema["required"] ?? []) as ReadonlyArray<string>
  const forms = (schema["oneOf"] ?? [{}]) as ReadonlyArray<Form>
  return fc.oneof(...forms.map((form) => {
    const excluded = new Set((form.not?.anyOf ?? []).flatMap((member) => member.required))
    const arbitraries = Object.fromEntries(
      Object.entries(properties).filter(([name]) => !excluded.has(name)).map((
        [name, property]
      ) => [name, arbitrary(document, property)])
    )
    return fc.record(arbitraries, { requiredKeys: [...required, ...(form.required ?? [])] })
  }))
}

/** Values no parameter takes, or only some do: they must be refused, not trip the server up. */
const wrongStrings = [
  "",
  " ",
  "0",
  "-1",
  "+24",
  "024",
  "0x18",
  "2.4e1",
  "1e400",
  "9007199254740992",
  "NaN",
  "Infinity",
  "abc",
  "%",
  "%ZZ",
  "%00",
  "null",
  "[]",
  "true",
  "①",
  "\u0000",
  "🌡",
  "9".repeat(400),
  "x".repeat(3000)
]

/** JSON values no field takes, or only some do. */
const wrongValues: ReadonlyArray<unknown> = [
  null,
  "",
  "x",
  -1,
  0,
  1.5,
  1e308,
  -1e308,
  true,
  [],
  {},
  [[[[[[[[1]]]]]]]],
  { toString: 1, __proto__: 2 },
  "x".repeat(5000),
  Array.from({ length: 500 }, (_, i) => i)
]

/** Bodies that are not what any operation takes. */
const wrongBodies = [
  "",
  "42",
  "\"text\"",
  "[]",
  "null",
  "{",
  "{\"a\":",
  "{'a': 1}",
  "[".repeat(100) + "]".repeat(100),
  "{\"a\":1,\"a\":2}",
  "\ufeff{}",
  "x".repeat(20_000)
]

const encode = (value: unknown) => encodeURIComponent(String(value))

const urlOf = (operation: Operation, path: Record<string, string>, query: ReadonlyArray<readonly [string, string]>) =>
  operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encode(path[name])) +
  (query.length === 0 ? "" : "?" + query.map(([name, value]) => `${encode(name)}=${encode(value)}`).join("&"))

const json = (value: unknown) => ({ text: JSON.stringify(value), contentType: "application/json" })

/** A valid request for `operation`, or one with a single thing wrong. */
export const requestOf = (document: OpenApiDocument, operation: Operation): fc.Arbitrary<Request> => {
  const pathParameters = operation.parameters.filter((parameter) => parameter.in === "path")
  const queryParameters = operation.parameters.filter((parameter) => parameter.in === "query")
  const path = fc.record(
    Object.fromEntries(pathParameters.map((p) => [p.name, arbitrary(document, p.schema).map(String)]))
  ) as fc.Arbitrary<Record<string, string>>
  const query = fc.record(
    Object.fromEntries(queryParameters.map((p) => [p.name, arbitrary(document, p.schema).map(String)])),
    { requiredKeys: queryParameters.filter((p) => p.required === true).map((p) => p.name) }
  ) as fc.Arbitrary<Record<string, string>>
  const body: fc.Arbitrary<unknown> = operation.body === undefined
    ? fc.constant(undefined)
    : operation.bodyRequired
    ? arbitrary(document, operation.body)
    : fc.option(arbitrary(document, operation.body), { nil: undefined })

  const valid = fc.tuple(path, query, body).map(([p, q, b]): Request => ({
    operation,
    method: operation.method,
    url: urlOf(operation, p, Object.entries(q)),
    ...(b === undefined ? {} : { body: json(b) })
  }))

  const mutations: Array<fc.Arbitrary<Request>> = []
  if (pathParameters.length > 0) {
    mutations.push(
      fc.tuple(valid, path, fc.constantFrom(...pathParameters), fc.oneof(fc.constantFrom(...wrongStrings), fc.string()))
        .map(([request, p, parameter, wrong]) => ({
          ...request,
          url: urlOf(operation, { ...p, [parameter.name]: wrong }, []),
          mutation: {
            base: { ...request, url: urlOf(operation, p, []) },
            kind: "path parameter",
            field: parameter.name
          }
        }))
    )
  }
  if (queryParameters.length > 0) {
    mutations.push(
      fc.tuple(valid, fc.constantFrom(...queryParameters), fc.oneof(fc.constantFrom(...wrongStrings), fc.string()))
        .map(([request, parameter, wrong]) => ({
          ...request,
          url: `${request.url.split("?")[0]}?${encode(parameter.name)}=${encode(wrong)}`,
          mutation: {
            base: { ...request, url: request.url.split("?")[0]! },
            kind: "query parameter",
            field: parameter.name
          }
        }))
    )
  }
  if (operation.body !== undefined) {
    const schema = resolve(document, operation.body)
    const object = schema["type"] === "object" ? schema : undefined
    const properties = Object.keys((object?.["properties"] ?? {}) as Record<string, unknown>)
    const required = (object?.["required"] ?? []) as ReadonlyArray<string>
    const validObject = arbitrary(document, object ?? {}).map((value) => value as Record<string, unknown>)
    if (properties.length > 0) {
      mutations.push(
        fc.tuple(valid, validObject, fc.constantFrom(...properties), fc.constantFrom(...wrongValues)).map((
          [request, value, field, wrong]
        ) => ({
          ...request,
          body: json({ ...value, [field]: wrong }),
          mutation: { base: { ...request, body: json(value) }, kind: "body field", field }
        })),
        fc.tuple(valid, validObject).map(([request, value]) => ({
          ...request,
          body: json({ ...value, unexpectedField: 1 }),
          mutation: { base: { ...request, body: json(value) }, kind: "unexpected body field", field: "unexpectedField" }
        }))
      )
    }
    if (required.length > 0) {
      mutations.push(
        fc.tuple(valid, validObject, fc.constantFrom(...required)).map(([request, value, field]) => {
          const { [field]: _, ...rest } = value
          return {
            ...request,
            body: json(rest),
            mutation: { base: { ...request, body: json(value) }, kind: "missing body field", field }
          }
        })
      )
    }
    mutations.push(
      fc.tuple(valid, fc.constantFrom(...wrongBodies)).map(([request, text]) => ({
        ...request,
        body: { text, contentType: "application/json" },
        mutation: { base: request, kind: "body" }
      })),
      fc.tuple(valid, fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "", "application/jsonx"))
        .map(([request, contentType]) => ({
          ...request,
          body: { text: request.body?.text ?? "{}", contentType },
          mutation: { base: request, kind: "content type" }
        }))
    )
  }
  return mutations.length === 0 ? valid : fc.oneof(valid, ...mutations)
}

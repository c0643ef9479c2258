import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderRollupIssue, syncAlerts, type Forge } from "@lastbeat/forge";
import { startFakeForge, type FakeForge, type LoggedRequest } from "../support/fake-forge.js";
import { NOW, at, forgeFor, state, SCOPE } from "./helpers.js";

/*
 * The GitHub side of the fake must not drift from the real API: every request the GitHub adapter
 * makes in a full lifecycle (and the error answers it relies on) is checked against GitHub's own
 * OpenAPI description from @octokit/openapi: the operation exists, the query parameters and body
 * fields are declared, the status is a documented answer, and the JSON matches its schema.
 */

type Schema = Record<string, unknown>;
const require = createRequire(import.meta.url);
const spec = JSON.parse(readFileSync(require.resolve("@octokit/openapi/generated/api.github.com.json"), "utf8")) as {
  paths: Record<string, Record<string, Schema>>;
  components: Record<string, Record<string, Schema>>;
};

function deref<T = Schema>(node: unknown): T {
  let n = node as Schema;
  while (n && typeof n.$ref === "string") {
    const [, , kind, name] = (n.$ref as string).split("/");
    n = spec.components[kind!]![name!]!;
  }
  return n as T;
}

/** A small JSON-schema check: types, required properties, enums, nullable, oneOf/anyOf/allOf. */
function validate(value: unknown, schemaRef: unknown, path: string, errors: string[], depth = 0): void {
  const schema = deref(schemaRef);
  if (!schema || depth > 12) return;
  if (value === null) {
    if (schema.nullable === true || (Array.isArray(schema.type) && schema.type.includes("null"))) return;
    if (schema.oneOf || schema.anyOf) {
      const options = (schema.oneOf ?? schema.anyOf) as unknown[];
      if (options.some((o) => deref(o).nullable === true || deref(o).type === "null")) return;
    }
    errors.push(`${path}: null is not allowed`);
    return;
  }
  for (const key of ["oneOf", "anyOf"] as const) {
    const options = schema[key] as unknown[] | undefined;
    if (options) {
      const ok = options.some((o) => {
        const e: string[] = [];
        validate(value, o, path, e, depth + 1);
        return e.length === 0;
      });
      if (!ok) errors.push(`${path}: matches no ${key} branch`);
      return;
    }
  }
  if (schema.allOf) {
    for (const s of schema.allOf as unknown[]) validate(value, s, path, errors, depth + 1);
    return;
  }
  const type = schema.type as string | undefined;
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) errors.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (type === "object" || schema.properties) {
    if (typeof value !== "object" || Array.isArray(value)) return void errors.push(`${path}: expected object`);
    for (const key of (schema.required as string[] | undefined) ?? []) {
      if (!(key in (value as object))) errors.push(`${path}.${key}: required property missing`);
    }
    const props = (schema.properties ?? {}) as Record<string, unknown>;
    for (const [key, v] of Object.entries(value as object)) if (props[key]) validate(v, props[key], `${path}.${key}`, errors, depth + 1);
  } else if (type === "array") {
    if (!Array.isArray(value)) return void errors.push(`${path}: expected array`);
    value.forEach((v, i) => validate(v, schema.items, `${path}[${i}]`, errors, depth + 1));
  } else if (type === "integer") {
    if (!Number.isInteger(value)) errors.push(`${path}: expected integer`);
  } else if (type === "number") {
    if (typeof value !== "number") errors.push(`${path}: expected number`);
  } else if (type === "string") {
    if (typeof value !== "string") errors.push(`${path}: expected string`);
    else if (schema.format === "date-time" && Number.isNaN(Date.parse(value))) errors.push(`${path}: not a date-time`);
  } else if (type === "boolean") {
    if (typeof value !== "boolean") errors.push(`${path}: expected boolean`);
  }
}

/** The OpenAPI path template a logged request matches. */
function templateOf(path: string): string | undefined {
  return Object.keys(spec.paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path));
}

function checkAgainstSpec(request: LoggedRequest): string[] {
  const errors: string[] = [];
  const where = `${request.method} ${request.path}`;
  const template = templateOf(request.path);
  if (!template) return [`${where}: no such path in the OpenAPI description`];
  const operation = spec.paths[template]![request.method.toLowerCase()] as Schema | undefined;
  if (!operation) return [`${where}: method not in the OpenAPI description of ${template}`];
  const params = ((operation.parameters as unknown[]) ?? []).map((p) => deref<{ name: string; in: string }>(p));
  for (const key of Object.keys(request.query)) {
    if (!params.some((p) => p.in === "query" && p.name === key)) errors.push(`${where}: query parameter ${key} not declared`);
  }
  if (request.body && typeof request.body === "object") {
    const bodySchema = deref(deref<Schema>(operation.requestBody)?.content as Schema);
    const props = deref((bodySchema?.["application/json"] as Schema)?.schema)?.properties as Schema | undefined;
    for (const key of Object.keys(request.body)) if (!props?.[key]) errors.push(`${where}: body field ${key} not declared`);
  }
  const responses = operation.responses as Record<string, unknown>;
  const response = deref<Schema>(responses[String(request.status)]);
  if (!response) return [...errors, `${where}: status ${request.status} is not a documented answer`];
  const schema = ((response.content as Schema | undefined)?.["application/json"] as Schema | undefined)?.schema;
  if (schema && request.response !== undefined) validate(request.response, schema, `${where} → ${request.status}`, errors);
  if (request.headers?.link && !(response.headers as Schema | undefined)?.Link) errors.push(`${where}: Link header not documented`);
  return errors;
}

describe("the fake GitHub against @octokit/openapi", () => {
  let fake: FakeForge;
  let forge: Forge;
  beforeAll(async () => {
    fake = await startFakeForge({ flavor: "github" });
    forge = await forgeFor(fake);
  });
  afterAll(() => fake.close());

  it("answers every request of a full lifecycle as GitHub documents it", async () => {
    // Pages with pull requests mixed in.
    for (let n = 0; n < 130; n++) fake.person.open({ title: `t${n}`, body: "x", labels: ["heartbeat"], pull: n % 3 === 0 });
    const stale = state("backup", { at: at(-5) });
    const failed = state("db", { at: at(-0.2), status: "fail", message: "boom" });
    const ok = state("backup", { at: at(-0.1) });
    const run = (states: typeof stale[]) => syncAlerts(forge, { scope: SCOPE, mode: "rollup", label: "heartbeat", states, now: NOW });
    await run([stale]);
    await run([stale, failed]);
    await run([ok]);
    // Duplicates, and the label lookups of a create with and without the label.
    const { title, body } = renderRollupIssue([stale], SCOPE);
    fake.person.open({ title, body, labels: ["heartbeat"] });
    fake.person.open({ title, body, labels: ["heartbeat"] });
    await run([stale]);
    fake.person.deleteLabel("heartbeat");
    await run([stale]);
    // Error answers the adapter relies on.
    await forge.ensureLabel("heartbeat");
    await fetch(`${fake.url}/repos/${fake.repo}/labels`, {
      method: "POST",
      headers: { authorization: `token ${fake.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "heartbeat", color: "d73a4a" }),
    });
    await fetch(`${fake.url}/repos/${fake.repo}/issues/9999`, {
      method: "PATCH",
      headers: { authorization: `token ${fake.token}`, "content-type": "application/json" },
      body: JSON.stringify({ state: "closed" }),
    });

    const seen = new Set(fake.requests.map((r) => `${r.method} ${templateOf(r.path)} ${r.status}`));
    expect([...seen].sort()).toEqual([
      "GET /repos/{owner}/{repo}/issues 200",
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments 200",
      "GET /repos/{owner}/{repo}/labels/{name} 200",
      "GET /repos/{owner}/{repo}/labels/{name} 404",
      "PATCH /repos/{owner}/{repo}/issues/{issue_number} 200",
      "PATCH /repos/{owner}/{repo}/issues/{issue_number} 404",
      "POST /repos/{owner}/{repo}/issues 201",
      "POST /repos/{owner}/{repo}/issues/{issue_number}/comments 201",
      "POST /repos/{owner}/{repo}/labels 201",
      "POST /repos/{owner}/{repo}/labels 422",
    ]);
    const errors = fake.requests.flatMap(checkAgainstSpec);
    expect(errors).toEqual([]);
  });

  it("catches a drift (the checker itself is checked)", () => {
    const bad: LoggedRequest = {
      method: "PATCH",
      path: "/repos/acme/ops/issues/1",
      query: { bogus: "1" },
      body: { title: "t", colour: "red" },
      status: 201,
      response: {},
    };
    expect(checkAgainstSpec(bad)).toEqual([
      "PATCH /repos/acme/ops/issues/1: query parameter bogus not declared",
      "PATCH /repos/acme/ops/issues/1: body field colour not declared",
      "PATCH /repos/acme/ops/issues/1: status 201 is not a documented answer",
    ]);
    const issue = fake.requests.find((r) => r.method === "POST" && r.status === 201 && r.path.endsWith("/issues"))!;
    const broken = { ...issue, response: { ...(issue.response as object), number: "1", user: undefined } };
    delete (broken.response as Record<string, unknown>).user;
    expect(checkAgainstSpec(broken)).toEqual([
      "POST /repos/acme/ops/issues → 201.user: required property missing",
      "POST /repos/acme/ops/issues → 201.number: expected integer",
    ]);
  });
});

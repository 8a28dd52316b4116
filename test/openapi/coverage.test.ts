// The OpenAPI documents against the app: every route app.ts defines is documented and every documented
// operation is routed; the committed documents are what the build makes of the routes' schemas (so the
// response checks in gw() hold the app to the current code); the checker itself refuses what it should;
// /openapi.json and /docs are static assets (no external URL), /admin/openapi.json needs the admin token.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { parseGenerationRequest } from "../../src/generations/schema";
import { buildDocument } from "../../src/document";
import { admin, gw } from "../helpers/gateway";
import { checkAgainstOpenApi, DOCUMENTS } from "../helpers/openapi";

/** `GET /v1/tasks/{}`: method and path with every parameter name erased, no trailing slash. */
const norm = (method: string, path: string) =>
  `${method.toUpperCase()} ${path.replace(/:[^/]+|\{[^}]+\}/g, "{}").replace(/(.)\/$/, "$1")}`;

function routed(): Set<string> {
  return new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => norm(r.method, r.path)));
}

function documented(): Set<string> {
  const out = new Set<string>();
  for (const doc of Object.values(DOCUMENTS)) {
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) out.add(norm(method, path));
    }
  }
  return out;
}

describe("OpenAPI coverage", () => {
  it("documents every route of app.ts, and nothing that is not routed", () => {
    const r = routed();
    const d = documented();
    expect(
      [...r].filter((x) => !d.has(x)),
      "routed but not documented",
    ).toEqual([]);
    expect(
      [...d].filter((x) => !r.has(x)),
      "documented but not routed",
    ).toEqual([]);
    expect(r.size).toBeGreaterThanOrEqual(18);
  });

  it("the committed documents are a fresh build of the routes' schemas", () => {
    expect(buildDocument("tenant")).toEqual(DOCUMENTS.tenant);
    expect(buildDocument("admin")).toEqual(DOCUMENTS.admin);
  });

  it("every operation has its security, every error response its codes, every 429 its Retry-After", () => {
    for (const [name, doc] of Object.entries(DOCUMENTS)) {
      for (const item of Object.values(doc.paths as Record<string, Record<string, any>>)) {
        for (const op of Object.values(item)) {
          expect(op.security, op.operationId).toBeDefined();
          expect(op.responses["500"]?.description, op.operationId).toContain("internal_error");
          if (op.responses["429"]) expect(op.responses["429"].headers["Retry-After"]).toBeDefined();
          if (JSON.stringify(op.security) !== "[]")
            expect(
              op.responses["401"]?.headers["WWW-Authenticate"],
              `${name} ${op.operationId}`,
            ).toBeDefined();
        }
      }
    }
    const create = (DOCUMENTS.tenant.paths as any)["/v1/videos/generations"].post;
    expect(create.parameters).toContainEqual({ $ref: "#/components/parameters/IdempotencyKey" });
    expect(Object.keys(create.responses["200"].headers)).toEqual(
      expect.arrayContaining(["RateLimit-Policy", "RateLimit", "Idempotency-Replayed"]),
    );
    expect(create.requestBody.content["application/json"].schema.oneOf.map((s: any) => s.title)).toEqual([
      "wan2.6-reference-video-flash",
      "wan2.6-reference-video",
    ]);
  });
});

describe("the documents' examples", () => {
  it("every success example validates against its own response schema", async () => {
    let examples = 0;
    for (const doc of Object.values(DOCUMENTS)) {
      for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
        for (const [method, op] of Object.entries(item)) {
          for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
            const example = response.content?.["application/json"]?.example;
            if (example === undefined || Number(status) >= 400) continue;
            const url = `https://g.test${path.replace(/\{[^}]+\}/g, "x")}`;
            const res = new Response(JSON.stringify(example), {
              status: Number(status),
              headers: { "content-type": "application/json", "x-request-id": "req-0001-test" },
            });
            await checkAgainstOpenApi(method, url, res);
            examples++;
          }
        }
      }
    }
    expect(examples).toBeGreaterThanOrEqual(5);
  });
});

describe("the request examples", () => {
  it("every create example is a body the gateway accepts", () => {
    const create = (DOCUMENTS.tenant.paths as any)["/v1/videos/generations"].post;
    const examples = Object.values(create.requestBody.content["application/json"].examples) as {
      value: unknown;
    }[];
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const { value } of examples)
      expect(() => parseGenerationRequest(value, { allowLocalUrls: false })).not.toThrow();
  });
});

describe("the response checker", () => {
  const json = (body: unknown, status = 200, extra: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", "x-request-id": "req-0001-test", ...extra },
    });

  it("refuses an undocumented status, an undocumented field and an unrouted 200", async () => {
    await expect(
      checkAgainstOpenApi("GET", "https://g.test/healthz", json({ ok: true }, 201)),
    ).rejects.toThrow(/not a documented response/);
    await expect(
      checkAgainstOpenApi("GET", "https://g.test/healthz", json({ ok: true, extra: 1 })),
    ).rejects.toThrow(/does not match/);
    await expect(checkAgainstOpenApi("GET", "https://g.test/nowhere", json({ ok: true }))).rejects.toThrow(
      /no documented operation/,
    );
    const undocumentedHeader = json({ ok: true }, 200, { "retry-after": "5" });
    await expect(checkAgainstOpenApi("GET", "https://g.test/healthz", undocumentedHeader)).rejects.toThrow(
      /carries retry-after/,
    );
    const wrongCode = json({ error: { code: "tenant_not_found", message: "x", type: "x" } }, 404);
    await expect(checkAgainstOpenApi("GET", "https://g.test/v1/tasks/x", wrongCode)).rejects.toThrow(
      /does not match/,
    );
  });

  it("holds files-API errors to both envelopes and file bytes to their media types, HEAD to no body", async () => {
    const plain = { error: { code: "not_found", message: "x", type: "not_found_error" } };
    await expect(
      checkAgainstOpenApi("DELETE", "https://g.test/api/v1/files/file_x", json(plain, 404)),
    ).rejects.toThrow(/does not match/);
    const wrongStatus = json({ success: false, code: 400, msg: "x", ...plain }, 404);
    await expect(
      checkAgainstOpenApi("DELETE", "https://g.test/api/v1/files/file_x", wrongStatus),
    ).rejects.toThrow(/does not match/);
    await checkAgainstOpenApi(
      "DELETE",
      "https://g.test/api/v1/files/file_x",
      json({ success: false, code: 404, msg: "x", ...plain }, 404),
    );

    const bytes = (status: number, type: string) =>
      new Response(new Uint8Array([0, 0, 0, 24]), {
        status,
        headers: { "content-type": type, "x-request-id": "req-0001-test" },
      });
    const file = "https://g.test/files/tok/a.mp4";
    await checkAgainstOpenApi("GET", file, bytes(200, "video/mp4"));
    await checkAgainstOpenApi("GET", file, bytes(206, "image/png"));
    await expect(checkAgainstOpenApi("GET", file, bytes(200, "text/html"))).rejects.toThrow(/not one of/);
    await expect(checkAgainstOpenApi("GET", file, bytes(201, "video/mp4"))).rejects.toThrow(
      /not a documented response/,
    );
    await expect(checkAgainstOpenApi("HEAD", file, bytes(200, "video/mp4"))).rejects.toThrow(/has a body/);
    await expect(checkAgainstOpenApi("HEAD", file, bytes(206, "video/mp4"))).rejects.toThrow(
      /not a documented response/,
    );
    const head = new Response(null, {
      headers: { "content-type": "video/mp4", "x-request-id": "req-0001-test" },
    });
    await checkAgainstOpenApi("HEAD", file, head);
  });

  it("accepts what the documents describe", async () => {
    await checkAgainstOpenApi("GET", "https://g.test/healthz", json({ ok: true }));
    const notFound = json(
      { error: { code: "task_not_found", message: "x", type: "invalid_request_error" } },
      404,
    );
    await checkAgainstOpenApi("GET", "https://g.test/v1/tasks/x", notFound);
  });
});

describe("serving the documents and the reference", () => {
  const assets = () => env.ASSETS as Fetcher;

  it("serves the tenant document at /openapi.json and the reference at /docs, as static assets", async () => {
    const doc = await assets().fetch("https://gateway.reelgate.test/openapi.json");
    expect(doc.status).toBe(200);
    expect(await doc.json()).toEqual(DOCUMENTS.tenant);

    const page = await assets().fetch("https://gateway.reelgate.test/docs/");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("/docs/swagger-ui-bundle.js");
    // Offline: every src and href of the page is on this origin.
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(2);
    expect(refs.filter((u) => !u.startsWith("/"))).toEqual([]);
    const init = await (await assets().fetch("https://gateway.reelgate.test/docs/init.js")).text();
    expect(init).toContain('url: "/openapi.json"');
    expect(init).toContain("validatorUrl: null");
    expect((await assets().fetch("https://gateway.reelgate.test/docs/swagger-ui-bundle.js")).status).toBe(
      200,
    );
  });

  it("serves the admin document only with the admin token", async () => {
    const res = await admin("/admin/openapi.json");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(DOCUMENTS.admin);
    const anonymous = await gw("/admin/openapi.json");
    expect(anonymous.status).toBe(401);
  });

  it("an unrouted files-API request gets its error in both envelopes, as the checker expects", async () => {
    for (const [path, method] of [
      ["/api/v1/files/nowhere/x", "GET"],
      ["/api/v1/files/file_x", "GET"],
      ["/api/v1/files/upload/stream", "PUT"],
    ] as const) {
      const res = await gw(path, { method });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ success: false, code: 401, error: { code: "unauthorized" } });
    }
    const plain = { error: { code: "unauthorized", message: "x", type: "authentication_error" } };
    const res = (body: unknown) =>
      new Response(JSON.stringify(body), {
        status: 401,
        headers: { "content-type": "application/json", "x-request-id": "req-0001-test" },
      });
    await expect(checkAgainstOpenApi("GET", `https://g.test/api/v1/files/x/y`, res(plain))).rejects.toThrow(
      /does not match/,
    );
    const wrongCode = { success: false, code: 404, msg: "x", ...plain };
    await expect(
      checkAgainstOpenApi("GET", `https://g.test/api/v1/files/x/y`, res(wrongCode)),
    ).rejects.toThrow(/does not match/);
  });
});

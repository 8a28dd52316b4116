// The results' links (sim/src/media.ts): real MP4-shaped bytes of the set size, made as a stream, served as a
// CDN serves a video (HEAD, single ranges, ETag/304, 416), refused with 403 once expired on the sim clock,
// the media control settings, and the media faults the gateway's copy job is tested against.
import { describe, expect, it } from "vitest";
import { optionsFromEnv } from "../../sim/src/host";
import { sniffType } from "../../src/files/sniff";
import { createTask, makeSim, queryRequest } from "./helpers";

type Sim = ReturnType<typeof makeSim>["sim"];
const DAY = 24 * 60 * 60_000;
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** The 40 bytes every result starts with, written out from ISO/IEC 14496-12 rather than taken from the sim. */
function expectedHeader(size: number): number[] {
  const mdat = size - 32;
  return [
    ...[0, 0, 0, 32, ...ascii("ftypisom"), 0, 0, 2, 0, ...ascii("isomiso2avc1mp41")],
    ...[mdat >>> 24, (mdat >>> 16) & 255, (mdat >>> 8) & 255, mdat & 255, ...ascii("mdat")],
  ];
}

/** Creates a task, lets it complete (5 s on the sim clock) and returns its id and result link. */
async function completed(sim: Sim, clock: ReturnType<typeof makeSim>["clock"]) {
  const id = await createTask(sim);
  clock.advance(5_000);
  const view = (await (await sim.fetch(queryRequest(id))).json()) as { results: string[] };
  return { id, url: view.results[0]! };
}

function get(sim: Sim, url: string, headers: Record<string, string> = {}, init: RequestInit = {}) {
  return sim.fetch(new Request(url, { headers, ...init }));
}

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

function control(sim: Sim, method: string, body?: unknown): Promise<Response> {
  const init = body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) };
  return sim.fetch(new Request("http://127.0.0.1:8788/__sim/media", { method, ...init }));
}

describe("a completed task's result", () => {
  it("is served at {mediaBaseUrl}/media/{id}.mp4: ftyp first, mdat covering the rest, 2,000,000 bytes by default", async () => {
    const { sim, clock } = makeSim();
    const { id, url } = await completed(sim, clock);
    expect(url).toBe(`https://media.sim.evolink.test/media/${id}.mp4`);
    const res = await get(sim, url);
    expect(res.status).toBe(200);
    expect(res.body).toBeInstanceOf(ReadableStream);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      "content-type": "video/mp4",
      "content-length": "2000000",
      "accept-ranges": "bytes",
      etag: `"${id}-2000000"`,
      "last-modified": new Date(clock.now()).toUTCString(),
    });
    const body = await bytesOf(res);
    expect(body.length).toBe(2_000_000);
    expect([...body.subarray(0, 40)]).toEqual(expectedHeader(2_000_000));
    expect(sniffType(body.subarray(0, 16))).toBe("video/mp4"); // the gateway's own sniffer takes it as a video
  });

  it("is the same bytes on every read, and another task's filler differs", async () => {
    const { sim, clock } = makeSim({ resultBytes: 200_000 });
    const a = await completed(sim, clock);
    const b = await completed(sim, clock);
    const first = await bytesOf(await get(sim, a.url));
    expect(await bytesOf(await get(sim, a.url))).toEqual(first);
    const other = await bytesOf(await get(sim, b.url));
    expect(other.subarray(0, 40)).toEqual(first.subarray(0, 40));
    expect(other.subarray(40)).not.toEqual(first.subarray(40));
    // Filler, not a constant: many distinct byte values past the header.
    expect(new Set(first.subarray(40, 10_000)).size).toBeGreaterThan(200);
  });

  it("is answered on any host, so a test routes the media host (or npm start's sim origin) to sim.fetch", async () => {
    const { sim, clock } = makeSim({ mediaBaseUrl: "http://127.0.0.1:8788/" });
    const { id, url } = await completed(sim, clock);
    expect(url).toBe(`http://127.0.0.1:8788/media/${id}.mp4`);
    expect((await get(sim, url)).status).toBe(200);
    expect((await get(sim, `https://elsewhere.test/media/${id}.mp4?sig=x`)).status).toBe(200);
    for (const bad of ["ftp://x.test", "https://x.test/cdn", "https://x.test/?a=1", "nope"])
      expect(() => makeSim({ mediaBaseUrl: bad }), bad).toThrow("media base URL");
  });

  it("answers HEAD with the headers and no body", async () => {
    const { sim, clock } = makeSim();
    const { url } = await completed(sim, clock);
    const res = await get(sim, url, {}, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("2000000");
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(res.body).toBeNull();
    const ranged = await get(sim, url, { range: "bytes=10-19" }, { method: "HEAD" });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe("bytes 10-19/2000000");
    expect(ranged.body).toBeNull();
  });

  it("serves single ranges (a-b, a-, -n) as 206 slices of the whole file, across chunk boundaries", async () => {
    const size = 200_000;
    const { sim, clock } = makeSim({ resultBytes: size });
    const { url } = await completed(sim, clock);
    const whole = await bytesOf(await get(sim, url));
    const cases: Array<[string, number, number]> = [
      ["bytes=0-99", 0, 100],
      ["bytes=30-49", 30, 50], // straddles the end of the header
      ["bytes=65530-65545", 65_530, 65_546], // straddles a 64 KiB chunk
      ["bytes=131000-", 131_000, size],
      ["bytes=-5", size - 5, size],
      ["bytes=-300000", 0, size],
      ["bytes=199990-250000", 199_990, size],
      ["bytes=7-7", 7, 8],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(sim, url, { range });
      expect(res.status, range).toBe(206);
      expect(res.headers.get("content-range"), range).toBe(`bytes ${start}-${end - 1}/${size}`);
      expect(res.headers.get("content-length"), range).toBe(String(end - start));
      expect(await bytesOf(res), range).toEqual(whole.subarray(start, end));
    }
  });

  it("answers an unsatisfiable range with 416 and bytes */size; ignores a malformed or multiple range", async () => {
    const { sim, clock } = makeSim({ resultBytes: 1_000 });
    const { url } = await completed(sim, clock);
    for (const range of ["bytes=1000-", "bytes=5000-6000", "bytes=-0"]) {
      const res = await get(sim, url, { range });
      expect(res.status, range).toBe(416);
      expect(res.headers.get("content-range"), range).toBe("bytes */1000");
    }
    for (const range of ["bytes=a-b", "items=0-9", "bytes=9-3", "bytes=0-1,5-6", "bytes=-"]) {
      const res = await get(sim, url, { range });
      expect(res.status, range).toBe(200);
      expect((await bytesOf(res)).length, range).toBe(1_000);
    }
  });

  it("answers If-None-Match with the ETag (or *, or W/) with 304, and an If-Range that differs with the whole file", async () => {
    const { sim, clock } = makeSim({ resultBytes: 1_000 });
    const { url } = await completed(sim, clock);
    const etag = (await get(sim, url, {}, { method: "HEAD" })).headers.get("etag")!;
    for (const inm of [etag, `"other", ${etag}`, `W/${etag}`, "*"]) {
      const res = await get(sim, url, { "if-none-match": inm });
      expect(res.status, inm).toBe(304);
      expect(res.headers.get("etag")).toBe(etag);
      expect(res.body).toBeNull();
    }
    expect((await get(sim, url, { "if-none-match": '"other"' })).status).toBe(200);
    expect((await get(sim, url, { range: "bytes=0-9", "if-range": etag })).status).toBe(206);
    expect((await get(sim, url, { range: "bytes=0-9", "if-range": '"stale"' })).status).toBe(200);
  });

  it("answers 403 (XML AccessDenied) from 24 h after the task ended, on the sim clock", async () => {
    const { sim, clock } = makeSim({ resultBytes: 1_000 });
    const { url } = await completed(sim, clock);
    clock.advance(DAY - 1);
    expect((await get(sim, url)).status).toBe(200);
    clock.advance(1);
    const gone = await get(sim, url);
    expect(gone.status).toBe(403);
    expect(gone.headers.get("content-type")).toBe("application/xml");
    expect(await gone.text()).toContain("<Code>AccessDenied</Code>");
    expect((await get(sim, url, { range: "bytes=0-9" })).status).toBe(403);
  });

  it("answers 404 for an unknown, pending or failed task, and 405 for other methods", async () => {
    const { sim, clock } = makeSim();
    const pending = await createTask(sim);
    expect((await get(sim, `https://media.sim.evolink.test/media/${pending}.mp4`)).status).toBe(404);
    const failed = await createTask(sim, { prompt: "A dance [sim:fail]" });
    clock.advance(5_000);
    expect((await get(sim, `https://media.sim.evolink.test/media/${failed}.mp4`)).status).toBe(404);
    const unknown = await get(sim, "https://media.sim.evolink.test/media/task-unified-1-nosuchid.mp4");
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("<Code>NoSuchKey</Code>");
    const { url } = await completed(sim, clock);
    const post = await get(sim, url, {}, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("is recorded in sim.requests without a body", async () => {
    const { sim, clock } = makeSim({ resultBytes: 1_000 });
    const { id, url } = await completed(sim, clock);
    await get(sim, url, { range: "bytes=0-9" });
    expect(sim.requests.at(-1)).toEqual({
      method: "GET",
      path: `/media/${id}.mp4`,
      headers: { range: "bytes=0-9" },
      body: null,
    });
  });

  it("is made as a stream: a 300 MB result announces its length and reads through in 64 KiB chunks", async () => {
    const size = 300_000_000;
    const { sim, clock } = makeSim({ resultBytes: size });
    const { url } = await completed(sim, clock);
    const res = await get(sim, url);
    expect(res.headers.get("content-length")).toBe(String(size));
    // Read 50 MB chunk by chunk, then the last 10 MB by range: never more than one chunk at hand.
    const reader = res.body!.getReader();
    let read = 0;
    let largest = 0;
    while (read < 50_000_000) {
      const { value, done } = await reader.read();
      if (done) break;
      read += value.length;
      largest = Math.max(largest, value.length);
    }
    await reader.cancel();
    expect(read).toBeGreaterThanOrEqual(50_000_000);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
    const tail = await get(sim, url, { range: `bytes=${size - 10_000_000}-` });
    let tailBytes = 0;
    for await (const chunk of tail.body!) tailBytes += (chunk as Uint8Array).length;
    expect(tailBytes).toBe(10_000_000);
  });
});

describe("media settings", () => {
  it("GET/POST /__sim/media read and set bytes and ttl_ms; a task keeps the size it was created with", async () => {
    const { sim, clock } = makeSim();
    expect(await (await control(sim, "GET")).json()).toEqual({ bytes: 2_000_000, ttl_ms: DAY });
    const before = await createTask(sim);
    const set = await control(sim, "POST", { bytes: 4_096, ttl_ms: 60_000 });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ bytes: 4_096, ttl_ms: 60_000 });
    const { url } = await completed(sim, clock);
    expect((await bytesOf(await get(sim, url))).length).toBe(4_096);
    const old = await get(sim, `https://media.sim.evolink.test/media/${before}.mp4`, {}, { method: "HEAD" });
    expect(old.headers.get("content-length")).toBe("2000000");
    // The lifetime applies to links already out: 60 s after the end they are gone.
    clock.advance(60_000);
    expect((await get(sim, url)).status).toBe(403);
    expect((await control(sim, "POST", { ttl_ms: DAY })).status).toBe(200);
    expect((await get(sim, url)).status).toBe(200);
    expect(await (await control(sim, "POST", {})).json()).toEqual({ bytes: 4_096, ttl_ms: DAY });
    sim.reset();
    expect(sim.media).toEqual({ bytes: 2_000_000, ttlMs: DAY });
  });

  it("refuses bad settings with 400 and keeps the old ones", async () => {
    const { sim } = makeSim();
    const bad: Array<[unknown, string]> = [
      [{ bytes: 39 }, "bytes"],
      [{ bytes: 2 ** 32 + 1 }, "bytes"],
      [{ bytes: 1.5 }, "bytes"],
      [{ bytes: "1000" }, "bytes"],
      [{ ttl_ms: -1 }, "ttl_ms"],
      [{ ttl_ms: 0.5 }, "ttl_ms"],
      [{ size: 10 }, "unknown media setting size"],
      [[1], "must be an object"],
      ["{", "JSON"],
    ];
    for (const [body, message] of bad) {
      const res = await control(sim, "POST", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({
        error: { code: "invalid_request", message: expect.stringContaining(message) },
      });
    }
    expect(sim.media).toEqual({ bytes: 2_000_000, ttlMs: DAY });
    expect(() => makeSim({ resultBytes: 10 })).toThrow("bytes");
    expect(() => makeSim({ resultTtlMs: -5 })).toThrow("ttl_ms");
  });

  it("takes SIM_MEDIA_BASE_URL, SIM_RESULT_BYTES and SIM_RESULT_TTL_MS from the sim Worker's vars", () => {
    expect(
      optionsFromEnv({
        SIM_MEDIA_BASE_URL: "http://127.0.0.1:8788",
        SIM_RESULT_BYTES: "100000000",
        SIM_RESULT_TTL_MS: "60000",
      }),
    ).toMatchObject({ mediaBaseUrl: "http://127.0.0.1:8788", resultBytes: 100_000_000, resultTtlMs: 60_000 });
    expect(() => optionsFromEnv({ SIM_RESULT_BYTES: "2MB" })).toThrow("SIM_RESULT_BYTES");
    expect(() => optionsFromEnv({ SIM_RESULT_TTL_MS: "-1" })).toThrow("SIM_RESULT_TTL_MS");
  });
});

describe("media faults", () => {
  it("answers an injected status with a CDN-style XML error, count times, then the file", async () => {
    const { sim, clock } = makeSim({ resultBytes: 1_000 });
    const { url } = await completed(sim, clock);
    sim.inject({ media: { status: 503, count: 2 } });
    const answers = [await get(sim, url), await get(sim, url), await get(sim, url)];
    expect(answers.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(await answers[0]!.text()).toContain("<Code>ServiceUnavailable</Code>");
    sim.inject({ media: { status: 429, retryAfterSeconds: 7 } });
    const limited = await get(sim, url);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    sim.inject({ media: null } as never);
    expect((await get(sim, url)).status).toBe(200);
  });

  it("delays by mediaDelayMs and hangs with hangMedia until the caller aborts", async () => {
    const { sim, clock } = makeSim({ resultBytes: 1_000 });
    const { url } = await completed(sim, clock);
    sim.inject({ mediaDelayMs: 120 });
    const started = Date.now();
    expect((await get(sim, url)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    sim.inject({ mediaDelayMs: null, hangMedia: true } as never);
    await expect(get(sim, url, {}, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
  });

  it("cuts a body after mediaBreak.afterBytes (headers still promise all of it), count times", async () => {
    const { sim, clock } = makeSim({ resultBytes: 200_000 });
    const { url } = await completed(sim, clock);
    sim.inject({ mediaBreak: { afterBytes: 70_000, count: 1 } });
    // A HEAD has no body to cut, so it leaves the count alone.
    expect((await get(sim, url, {}, { method: "HEAD" })).status).toBe(200);
    const cut = await get(sim, url);
    expect(cut.status).toBe(200);
    expect(cut.headers.get("content-length")).toBe("200000");
    let received = 0;
    await expect(
      (async () => {
        for await (const chunk of cut.body!) received += (chunk as Uint8Array).length;
      })(),
    ).rejects.toThrow();
    expect(received).toBe(70_000);
    expect(sim.faults.mediaBreak).toBeUndefined();
    expect((await bytesOf(await get(sim, url))).length).toBe(200_000);
  });

  it("parses the media faults strictly", () => {
    const { sim } = makeSim();
    expect(() => sim.inject({ media: { status: 404 } })).toThrow("media.status");
    expect(() => sim.inject({ mediaDelayMs: -1 })).toThrow("mediaDelayMs");
    expect(() => sim.inject({ hangMedia: "yes" })).toThrow("hangMedia");
    expect(() => sim.inject({ mediaBreak: { afterBytes: -1 } })).toThrow("afterBytes");
    expect(() => sim.inject({ mediaBreak: { afterBytes: 1, count: 0 } })).toThrow("count");
    expect(() => sim.inject({ mediaBreak: { afterBytes: 1, at: 2 } })).toThrow("mediaBreak.at");
    expect(sim.faults).toEqual({});
  });
});

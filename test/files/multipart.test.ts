// The streaming multipart reader on its own: parts split at every possible chunk boundary (delimiters
// straddling chunks, bytes that look like a delimiter's start), fields before and after the file, and
// malformed bodies as 400s.
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/http/errors";
import { chunkReader, multipartParts, textOf } from "../../src/files/multipart";

const enc = new TextEncoder();

/** A plain stream, or a byte stream (read through a BYOB reader into one reused buffer) with `bytes`. */
function streamOf(
  bytes: Uint8Array,
  chunk: number,
  kind: "plain" | "bytes" = "plain",
): ReadableStream<Uint8Array> {
  let o = 0;
  if (kind === "bytes")
    return new ReadableStream({
      type: "bytes",
      pull(c) {
        if (o >= bytes.length) return c.close();
        c.enqueue(bytes.slice(o, o + chunk));
        o += chunk;
      },
    }) as ReadableStream<Uint8Array>;
  return new ReadableStream({
    pull(c) {
      if (o >= bytes.length) return c.close();
      c.enqueue(bytes.slice(o, o + chunk));
      o += chunk;
    },
  });
}

function body(file: Uint8Array): Uint8Array {
  const head = enc.encode(
    '--b0undary\r\ncontent-disposition: form-data; name="upload_path"\r\n\r\nrefs\r\n' +
      '--b0undary\r\ncontent-disposition: form-data; name="file"; filename="a.mp4"\r\ncontent-type: video/mp4\r\n\r\n',
  );
  const tail = enc.encode(
    '\r\n--b0undary\r\ncontent-disposition: form-data; name="file_name"\r\n\r\nx.mp4\r\n--b0undary--\r\n',
  );
  const out = new Uint8Array(head.length + file.length + tail.length);
  out.set(head);
  out.set(file, head.length);
  out.set(tail, head.length + file.length);
  return out;
}

async function read(stream: ReadableStream<Uint8Array>) {
  const parts: { name: string; filename: string | null; type: string | null; bytes: number[] }[] = [];
  for await (const part of multipartParts(stream, "b0undary")) {
    const bytes: number[] = [];
    if (part.name === "file") for await (const c of part.body) bytes.push(...c);
    else bytes.push(...enc.encode(await textOf(part)));
    parts.push({ name: part.name, filename: part.filename, type: part.contentType, bytes });
  }
  return parts;
}

describe("multipartParts", () => {
  // A file holding near-delimiters: CRLF, "\r\n--b0undar" without the last letter, and a lone "--b0undary".
  const file = enc.encode("\r\n-\r\n--b0undar\r\n--b0undarX--b0undary tail\r");

  it.each(
    [1, 2, 3, 5, 7, 11, 13, 64, 4096].flatMap((size) => [
      [size, "plain"],
      [size, "bytes"],
    ]) as [number, "plain" | "bytes"][],
  )("reads the same parts at chunk size %i (%s stream)", async (size, kind) => {
    const parts = await read(streamOf(body(file), size, kind));
    expect(parts.map((p) => p.name)).toEqual(["upload_path", "file", "file_name"]);
    expect(new TextDecoder().decode(new Uint8Array(parts[0]!.bytes))).toBe("refs");
    expect(parts[1]).toMatchObject({ filename: "a.mp4", type: "video/mp4" });
    expect(new Uint8Array(parts[1]!.bytes)).toEqual(file);
    expect(new TextDecoder().decode(new Uint8Array(parts[2]!.bytes))).toBe("x.mp4");
  });

  it("refuses a body cut inside a part, and one without the opening boundary, as 400s", async () => {
    const whole = body(file);
    for (const bad of [whole.slice(0, whole.length - 40), enc.encode("no boundary here at all")]) {
      const err = await read(streamOf(bad, 7)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe("invalid_request");
    }
  });
});

describe("chunkReader", () => {
  it("hands over a byte stream in full 64 KiB reads, whatever size its pieces come in, the last bytes too", async () => {
    const bytes = new Uint8Array(200 * 1024 + 123).map((_, i) => i % 251);
    const read = chunkReader(streamOf(bytes, 4 * 1024, "bytes"));
    const sizes: number[] = [];
    const got = new Uint8Array(bytes.length);
    for (let chunk = await read(); chunk !== null; chunk = await read()) {
      got.set(
        chunk,
        sizes.reduce((a, b) => a + b, 0),
      );
      sizes.push(chunk.length);
    }
    // Pieces of 4 KB (as a request body arrives) come out as full reads: each one costs every step above.
    expect(sizes).toEqual([65_536, 65_536, 65_536, 8_315]);
    expect(got).toEqual(bytes);
    expect(await read()).toBeNull();
  });
});

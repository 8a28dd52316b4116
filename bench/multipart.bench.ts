// Issue 19's question: is `@remix-run/multipart-parser` (the successor of `@mjackson/multipart-parser`)
// faster than the hand-written streaming parser of src/files/multipart.ts? Both parse the same upload —
// two text fields and an 8 MiB file part — from a request-like stream of 4 KiB chunks (what workerd hands
// a Worker), and every byte of the file is consumed. Run inside workerd like the Worker (`npm run
// bench:micro`). The library yields a part only once it is complete, its bytes kept in `part.content`, so it
// holds the whole file in memory; the hand-written parser hands the file on chunk by chunk.
import { parseMultipartStream } from "@remix-run/multipart-parser";
import { expect, test } from "vitest";
import { multipartParts } from "../src/files/multipart";
import { compareOps } from "./micro";

const BOUNDARY = "----reelgatebench7MA4YWxkTrZu0gW";
const FILE_BYTES = 8 * 1024 * 1024;
const CHUNK = 4 * 1024;

const enc = new TextEncoder();
const file = new Uint8Array(FILE_BYTES).map((_, i) => (i * 31) & 0xff);
const body = concat([
  enc.encode(
    `--${BOUNDARY}\r\ncontent-disposition: form-data; name="upload_path"\r\n\r\nrefs\r\n` +
      `--${BOUNDARY}\r\ncontent-disposition: form-data; name="file_name"\r\n\r\nclip.mp4\r\n` +
      `--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="clip.mp4"\r\n` +
      `content-type: video/mp4\r\n\r\n`,
  ),
  file,
  enc.encode(`\r\n--${BOUNDARY}--\r\n`),
]);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** The body as a request would carry it: a byte stream in CHUNK-sized pieces (BYOB-capable). */
function stream(): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (at >= body.byteLength) return controller.close();
      controller.enqueue(body.slice(at, at + CHUNK));
      at += CHUNK;
    },
  });
}

async function handWritten(): Promise<number> {
  let bytes = 0;
  for await (const part of multipartParts(stream(), BOUNDARY))
    for await (const chunk of part.body) bytes += chunk.byteLength;
  return bytes;
}

async function library(): Promise<number> {
  let bytes = 0;
  const options = { boundary: BOUNDARY, maxFileSize: Infinity, maxTotalSize: Infinity };
  for await (const part of parseMultipartStream(stream(), options))
    for (const chunk of part.content) bytes += chunk.byteLength;
  return bytes;
}

test("multipart parsing: hand-written streaming parser vs @remix-run/multipart-parser", async ({ bench }) => {
  const expected = FILE_BYTES + "refs".length + "clip.mp4".length;
  expect(await handWritten()).toBe(expected);
  expect(await library()).toBe(expected);
  await compareOps(bench, `Parsing a ${FILE_BYTES / 1024 / 1024} MiB upload in ${CHUNK / 1024} KiB chunks`, [
    { name: "src/files/multipart.ts (streams the file part)", op: handWritten },
    { name: "@remix-run/multipart-parser 0.16.3 (holds each part whole)", op: library },
  ]);
});

// The floor for the upload and kept-results benchmarks: a Worker that does the least a gateway could with the
// same bytes, so workerd's own cost of a streamed body (a fresh buffer per network chunk, collected when V8
// gets to it) can be read apart from the gateway's.
//   POST /            `npm run bench:upload`: reads an upload's body chunk by chunk and throws every byte away;
//   POST /r2          `npm run bench:upload`'s R2 floor: the body, whole form as it comes, into the local R2
//                     bucket in 5 MiB parts, every part's write started as soon as it is read (no checks,
//                     no bound on the parts in flight): the fastest a Worker can store a body of unknown length;
//   GET /fetch?url=   `npm run bench:results`: fetches `url` (the simulator's result link) and drains it;
//   GET /put?url=&key=  fetches `url` and streams it into the local R2 bucket under `key`, nothing else;
//   GET /relay?url=   fetches `url` and returns its body as it comes (Range passed on);
//   GET /r2/{key}     serves an object of the bucket, a single `Range` honoured.
// Local only, never deployed: it fetches whatever URL it is given.
interface Env {
  BUCKET: R2Bucket;
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/r2" && request.body) {
      const bytes = await storeParts(env.BUCKET, "floor-upload", request.body);
      return Response.json({ success: true, code: 200, msg: "stored", data: { file_size: bytes } });
    }
    if (request.method === "POST" && request.body) {
      const bytes = await drain(request.body);
      return Response.json({ success: true, code: 200, msg: "drained", data: { file_size: bytes } });
    }
    const target = url.searchParams.get("url");
    if (url.pathname === "/fetch" && target) {
      const res = await fetch(target);
      if (!res.ok || !res.body) return new Response(`source answered ${res.status}`, { status: 502 });
      return Response.json({ bytes: await drain(res.body) });
    }
    if (url.pathname === "/put" && target) {
      const res = await fetch(target);
      if (!res.ok || !res.body) return new Response(`source answered ${res.status}`, { status: 502 });
      const object = await env.BUCKET.put(url.searchParams.get("key") ?? "floor", res.body, {
        httpMetadata: { contentType: res.headers.get("content-type") ?? "video/mp4" },
      });
      return Response.json({ bytes: object.size });
    }
    if (url.pathname === "/relay" && target) {
      const range = request.headers.get("range");
      const res = await fetch(target, range ? { headers: { range } } : {});
      return new Response(res.body, { status: res.status, headers: res.headers });
    }
    if (url.pathname.startsWith("/r2/")) {
      const object = await env.BUCKET.get(url.pathname.slice(4), { range: request.headers });
      if (!object) return new Response("not found", { status: 404 });
      const headers = new Headers();
      object.writeHttpMetadata(headers);
      const r = object.range as { offset?: number; length?: number } | undefined;
      if (!request.headers.has("range") || !r || r.offset === undefined || r.length === undefined)
        return new Response(object.body, { headers });
      headers.set("content-range", `bytes ${r.offset}-${r.offset + r.length - 1}/${object.size}`);
      return new Response(object.body, { status: 206, headers });
    }
    return new Response("ok");
  },
} satisfies ExportedHandler<Env>;

async function drain(body: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
  }
}

const PART = 5 * 1024 * 1024;

async function storeParts(bucket: R2Bucket, key: string, body: ReadableStream<Uint8Array>): Promise<number> {
  const reader = body.getReader({ mode: "byob" });
  const upload = await bucket.createMultipartUpload(key);
  const parts: Promise<R2UploadedPart>[] = [];
  let bytes = 0;
  for (let done = false; !done;) {
    const read = await reader.readAtLeast(PART, new Uint8Array(PART));
    done = read.done;
    if (!read.value || read.value.byteLength === 0) break;
    bytes += read.value.byteLength;
    parts.push(upload.uploadPart(parts.length + 1, read.value));
  }
  await upload.complete(await Promise.all(parts));
  return bytes;
}

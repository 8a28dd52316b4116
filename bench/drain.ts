// The floor for `npm run bench:upload`'s memory figures: a Worker that reads an upload's body chunk by chunk
// and throws every byte away. What workerd's RSS does under it is the runtime's own cost of a streamed body
// (a fresh buffer per network chunk, collected when V8 gets to it); the gateway's figures are read against it.
export default {
  async fetch(request): Promise<Response> {
    if (request.method !== "POST" || !request.body) return new Response("ok");
    let bytes = 0;
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
    }
    return Response.json({ success: true, code: 200, msg: "drained", data: { file_size: bytes } });
  },
} satisfies ExportedHandler;

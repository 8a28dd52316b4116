// The upstream simulator: a strict, in-memory stand-in for EvoLink's video API (README §1–§5). No Worker
// globals and the clock injected, so the gateway's tests can run it in their isolate and the sim Worker
// (worker.ts) can host it in a Durable Object. Time only moves when `now()` does; `tick()` sends callbacks.
import { CallbackDispatcher } from "./callbacks";
import { FLASH_FILE, validateAgainstContract } from "./contract";
import { handleControl } from "./control";
import { creditsUnauthorized, SimAccount, type CreditsState } from "./credits";
import { FILES_PREFIX, filesFault, SimFiles } from "./files";
import * as errors from "./errors";
import { mergeFaults, parseFaults, takeMediaBreak, takeStatusFault } from "./faults";
import { IDEMPOTENCY_KEY_PATTERN, IdempotencyStore } from "./idempotency";
import {
  checkBytes,
  checkTtl,
  DEFAULT_MEDIA_BASE_URL,
  DEFAULT_RESULT_BYTES,
  DEFAULT_RESULT_TTL_MS,
  isMediaPath,
  mediaFault,
  mediaTaskId,
  parseMediaBaseUrl,
  parseMediaSettings,
  serveMedia,
  type MediaSettings,
} from "./media";
import { creditsFor } from "./pricing";
import { asCreateBody, checkCreateBody } from "./rules";
import { advance, chooseOutcome, createView, detailView, ID_PREFIX, isTerminal, newTask } from "./tasks";
import type { CallbackAttempt, Faults, RecordedRequest, SimOptions, SimTask, Timings } from "./types";
import { sleep, untilAborted } from "./wait";

export type {
  CallbackAttempt,
  CreateBody,
  Faults,
  FaultStatus,
  MediaBreak,
  Outcome,
  RecordedRequest,
  SimOptions,
  SimTask,
  StatusFault,
  TaskStatus,
  Timings,
} from "./types";

export const DEFAULT_TIMINGS: Timings = { processingAfterMs: 1_000, completeAfterMs: 5_000 };
const CREATE_PATH = "/v1/videos/generations";
const TASK_PATH = /^\/v1\/tasks\/([^/]+)$/;
const CREDITS_PATH = "/v1/credits";

export class UpstreamSimulator {
  readonly requests: RecordedRequest[] = [];
  private readonly now: () => number;
  private readonly timings: Timings;
  private readonly contract: Record<string, unknown> | null;
  private readonly dispatcher: CallbackDispatcher;
  private readonly idempotency = new IdempotencyStore();
  private readonly taskMap = new Map<string, SimTask>();
  private activeFaults: Faults = {};
  private readonly initialMedia: MediaSettings;
  private mediaSettings: MediaSettings;
  /** The origin of the results' links (an http(s) origin, no trailing slash). */
  readonly mediaBaseUrl: string;
  /** The files API (EvoLink's files-api; served on the same origin by the simulator). */
  readonly files: SimFiles;
  /** The operator's account behind the key: GET /v1/credits, and the 402 when a reservation would overdraw it. */
  private readonly account = new SimAccount();

  constructor(private readonly options: SimOptions) {
    if (!options.apiKey) throw new Error("UpstreamSimulator: apiKey is required");
    this.contract = options.contract ?? null;
    if (this.contract && !(FLASH_FILE in this.contract))
      throw new Error(`UpstreamSimulator: contract given without ${FLASH_FILE}`);
    this.now = options.now ?? (() => Date.now());
    const timings = { ...DEFAULT_TIMINGS, ...options.timings };
    timings.processingAfterMs = Math.min(timings.processingAfterMs, timings.completeAfterMs);
    this.timings = timings;
    const send = options.send ?? ((request: Request) => globalThis.fetch(request));
    this.dispatcher = new CallbackDispatcher(send, this.now);
    this.files = new SimFiles(this.now, this.contract, options.filesMaxBytes, options.filesMaxFiles);
    this.mediaBaseUrl = parseMediaBaseUrl(options.mediaBaseUrl ?? DEFAULT_MEDIA_BASE_URL);
    this.initialMedia = {
      bytes: checkBytes(options.resultBytes ?? DEFAULT_RESULT_BYTES),
      ttlMs: checkTtl(options.resultTtlMs ?? DEFAULT_RESULT_TTL_MS),
    };
    this.mediaSettings = { ...this.initialMedia };
  }

  get callbacks(): CallbackAttempt[] {
    return this.dispatcher.log;
  }

  /** The faults in force (a copy). */
  get faults(): Faults {
    return structuredClone(this.activeFaults);
  }

  /** True while a task is unfinished or a callback still has to be sent. */
  get busy(): boolean {
    return this.dispatcher.pending > 0 || [...this.taskMap.values()].some((t) => !isTerminal(t.status));
  }

  task(id: string): SimTask | undefined {
    this.sync();
    return this.taskMap.get(id);
  }

  tasks(): SimTask[] {
    this.sync();
    return [...this.taskMap.values()];
  }

  /** The results' size and link lifetime (a copy); `reset()` restores the options' values. */
  get media(): MediaSettings {
    return { ...this.mediaSettings };
  }

  /** Changes the media settings (`bytes`, `ttl_ms`, as POST /__sim/media). Throws on a bad value. */
  configureMedia(input: unknown): MediaSettings {
    this.mediaSettings = { ...this.mediaSettings, ...parseMediaSettings(input) };
    return this.media;
  }

  /** The account: its balance (null = unlimited), what completed tasks used, what open tasks hold. */
  get credits(): CreditsState {
    this.sync();
    return this.account.state(this.openReserved());
  }

  /** Sets the balance (`{"balance": number | null}`, as POST /__sim/credits). Throws on a bad value. */
  configureCredits(input: unknown): CreditsState {
    this.sync(); // tasks the clock has already ended are settled against the balance they ran under
    this.account.configure(input);
    return this.credits;
  }

  /** Merges faults in (a key set to null clears it). Throws on an unknown key or bad value. */
  inject(faults: Faults | Record<string, unknown>): void {
    this.activeFaults = mergeFaults(this.activeFaults, parseFaults(faults));
  }

  reset(): void {
    this.requests.length = 0;
    this.taskMap.clear();
    this.idempotency.reset();
    this.dispatcher.reset();
    this.activeFaults = {};
    this.files.reset();
    this.account.reset();
    this.mediaSettings = { ...this.initialMedia };
  }

  /** Advances every task to `now()` and sends the callbacks (and retries) that are due. */
  async tick(): Promise<void> {
    this.sync();
    await this.dispatcher.deliverDue((id) => {
      const task = this.taskMap.get(id);
      return task ? detailView(task, this.mediaBaseUrl) : { id };
    }, this.activeFaults.dropCallbacks === true);
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__sim" || url.pathname.startsWith("/__sim/"))
      return handleControl(this, request, url);
    if (url.pathname.startsWith(`${FILES_PREFIX}/`)) return this.filesApi(request, url);
    if (isMediaPath(url.pathname)) return this.mediaLink(request, url);
    const text = request.body ? await request.text() : "";
    this.record(request, url, text);
    this.sync();
    const taskMatch = TASK_PATH.exec(url.pathname);
    if (url.pathname === CREATE_PATH) {
      return request.method === "POST"
        ? this.create(request, text)
        : methodNotAllowed(request.method, url.pathname);
    }
    if (taskMatch) {
      return request.method === "GET"
        ? this.query(request, decodeURIComponent(taskMatch[1] ?? ""))
        : methodNotAllowed(request.method, url.pathname);
    }
    if (url.pathname === CREDITS_PATH) {
      if (request.method !== "GET") return methodNotAllowed(request.method, url.pathname);
      return this.authorized(request) ? errors.json(this.account.view()) : creditsUnauthorized();
    }
    return errors.routeNotFound(request.method, url.pathname);
  }

  private async create(request: Request, text: string): Promise<Response> {
    const fault = await this.misbehave("create", request);
    if (fault) return fault;
    if (!this.authorized(request)) return errors.statusError("create", 401);
    const key = request.headers.get("idempotency-key");
    if (key !== null && !IDEMPOTENCY_KEY_PATTERN.test(key))
      return errors.invalidRequest([
        "Idempotency-Key must be 16-96 characters of A-Z, a-z, 0-9, '.', '_', '-'",
      ]);
    const parsed = parseJsonBody(request, text);
    if ("problem" in parsed) return errors.invalidRequest([parsed.problem]);
    if (key !== null) {
      const seen = this.idempotency.lookup(key, parsed.body);
      if (seen.kind === "conflict") return errors.idempotencyConflict();
      if (seen.kind === "replay")
        return new Response(seen.body, {
          headers: { "content-type": "application/json", "idempotency-replayed": "true" },
        });
    }
    const problems = this.problems(parsed.body);
    if (problems.length > 0) return errors.invalidRequest(problems);
    const body = asCreateBody(parsed.body);
    // EvoLink reserves at creation: a reservation the balance cannot cover beside the open ones is refused.
    if (!this.account.affords(creditsFor(body), this.openReserved()))
      return errors.statusError("create", 402);
    const outcome = chooseOutcome(this.activeFaults.nextOutcome, body.prompt);
    delete this.activeFaults.nextOutcome;
    const task = newTask(body, outcome, this.now(), this.mediaSettings.bytes, key ?? undefined);
    this.taskMap.set(task.id, task);
    const answer = JSON.stringify(createView(task, this.timings));
    if (key !== null) this.idempotency.save(key, parsed.body, answer);
    const slow = this.activeFaults.createAnswerDelayMs;
    // The task is made either way; a caller that gave up meanwhile just never reads the answer.
    if (slow) await sleep(slow, request.signal).catch(() => {});
    return new Response(answer, { headers: { "content-type": "application/json" } });
  }

  /** The files API: recorded without its body (a file can be 100 MB), faults first, then the key. */
  private async filesApi(request: Request, url: URL): Promise<Response> {
    this.record(request, url, "");
    const f = this.activeFaults;
    if (f.filesDelayMs) await sleep(f.filesDelayMs, request.signal);
    if (f.hangFiles) await untilAborted(request.signal);
    const fault = takeStatusFault(f, "files");
    if (fault) return filesFault(fault.status, fault.retryAfterSeconds);
    if (!this.authorized(request)) return filesFault(401);
    return this.files.handle(request, url.pathname.slice(FILES_PREFIX.length), url);
  }

  /** A result's link: public as a CDN's, recorded without a body, faults first, then the task on the sim clock. */
  private async mediaLink(request: Request, url: URL): Promise<Response> {
    this.record(request, url, "");
    const f = this.activeFaults;
    if (f.mediaDelayMs) await sleep(f.mediaDelayMs, request.signal);
    if (f.hangMedia) await untilAborted(request.signal);
    const fault = takeStatusFault(f, "media");
    if (fault) return mediaFault(fault.status, fault.retryAfterSeconds);
    this.sync();
    const task = this.taskMap.get(mediaTaskId(url.pathname) ?? "");
    return serveMedia(request, task, this.mediaSettings, this.now(), () => takeMediaBreak(f));
  }

  private async query(request: Request, id: string): Promise<Response> {
    const fault = await this.misbehave("query", request);
    if (fault) return fault;
    if (!this.authorized(request)) return errors.statusError("query", 401);
    if (!id.startsWith(ID_PREFIX)) return errors.invalidTaskId();
    const task = this.taskMap.get(id);
    if (!task) return errors.taskNotFound();
    return errors.json(detailView(task, this.mediaBaseUrl));
  }

  /** Prose-rule problems first, then the OpenAPI schema's (when the contract is at hand), without repeats. */
  private problems(body: unknown): string[] {
    const prose = checkCreateBody(body, this.options.allowLocalCallbacks === true);
    const schema = this.contract
      ? validateAgainstContract(this.contract, body).map((e) => `schema: ${e}`)
      : [];
    return [...prose, ...schema];
  }

  /** Applies the injected delay, hang and status fault of `endpoint`; returns the fault answer, if any. */
  private async misbehave(endpoint: errors.Endpoint, request: Request): Promise<Response | undefined> {
    const f = this.activeFaults;
    const delay = endpoint === "create" ? f.createDelayMs : f.queryDelayMs;
    if (delay) await sleep(delay, request.signal);
    if (endpoint === "create" ? f.hangCreate : f.hangQuery) await untilAborted(request.signal);
    const fault = takeStatusFault(f, endpoint);
    return fault ? errors.statusError(endpoint, fault.status, fault.retryAfterSeconds) : undefined;
  }

  private authorized(request: Request): boolean {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
    return match?.[1] === this.options.apiKey;
  }

  private sync(): void {
    const now = this.now();
    for (const task of this.taskMap.values()) {
      const ended = advance(task, now, this.timings);
      // Settled on completion at what was reserved (its `credits_used`); a failed or cancelled task is not charged.
      if (ended && task.status === "completed") this.account.charge(task.creditsReserved);
      const url = task.request.callback_url;
      if (ended && url) this.dispatcher.enqueue(task.id, url, task.finishedAt ?? now);
    }
  }

  /** Credits held by unfinished tasks (in sync with the clock: callers sync first). */
  private openReserved(): number {
    let cents = 0;
    for (const task of this.taskMap.values())
      if (!isTerminal(task.status)) cents += Math.round(task.creditsReserved * 100);
    return cents / 100;
  }

  private record(request: Request, url: URL, text: string): void {
    const headers = Object.fromEntries(request.headers);
    if ("authorization" in headers) headers.authorization = "[present]";
    let body: unknown = text === "" ? null : text;
    try {
      if (text !== "") body = JSON.parse(text);
    } catch {
      // not JSON: keep the raw text
    }
    this.requests.push({ method: request.method, path: url.pathname + url.search, headers, body });
  }
}

function parseJsonBody(request: Request, text: string): { body: unknown } | { problem: string } {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) return { problem: "Content-Type must be application/json" };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { problem: "body must be valid JSON" };
  }
}

function methodNotAllowed(method: string, path: string): Response {
  return errors.errorResponse(405, {
    code: "method_not_allowed",
    message: `${method} is not allowed on ${path}`,
    type: "invalid_request_error",
  });
}

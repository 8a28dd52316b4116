// Shapes shared by the upstream simulator's parts: its options, the faults it can be told to inject,
// the tasks it holds and the logs a test inspects. Plain data only, so the control API can return them as JSON.

export type Outcome = "completed" | "failed" | "cancelled";
export type TaskStatus = "pending" | "processing" | Outcome;
export type FaultStatus = 401 | 402 | 403 | 429 | 500 | 503;

export interface StatusFault {
  status: FaultStatus;
  /** How many requests answer with this status before the fault clears itself; unlimited when omitted. */
  count?: number;
  /** Retry-After seconds sent with a 429 (default 60, the legacy docs' "retry after 60 seconds"). */
  retryAfterSeconds?: number;
}

export interface Faults {
  create?: StatusFault;
  query?: StatusFault;
  /** Real-time delay (setTimeout) before answering a create / a query. */
  createDelayMs?: number;
  queryDelayMs?: number;
  /**
   * Real-time delay after a create is recorded (the task exists, its key is remembered) and before it is
   * answered: a caller that dies meanwhile leaves an upstream task its retry must find again, not repeat.
   */
  createAnswerDelayMs?: number;
  /** Never answer until the caller aborts its request. */
  hangCreate?: boolean;
  hangQuery?: boolean;
  /** Due callbacks are dropped (logged, never sent), so the caller must poll. */
  dropCallbacks?: boolean;
  /** Outcome of the next created task (consumed by it); beats a prompt marker. */
  nextOutcome?: Outcome;
  /** The files API (/api/v1/files/*): a status answer, a delay, or a hang (sim/src/files.ts). */
  files?: StatusFault;
  filesDelayMs?: number;
  hangFiles?: boolean;
  /** The results' links (/media/*, sim/src/media.ts): a status answer, a delay, a hang, or a body cut short. */
  media?: StatusFault;
  mediaDelayMs?: number;
  hangMedia?: boolean;
  mediaBreak?: MediaBreak;
}

export interface MediaBreak {
  /** The body errors (as a reset connection) after this many bytes; the headers still promise all of it. */
  afterBytes: number;
  /** How many bodies are cut before the fault clears itself; unlimited when omitted. */
  count?: number;
}

export interface Timings {
  /** From creation until the task reports `processing`. */
  processingAfterMs: number;
  /** From creation until the task reaches its outcome. */
  completeAfterMs: number;
}

export interface SimOptions {
  /** The only bearer key accepted. */
  apiKey: string;
  /** Clock in ms; default Date.now. */
  now?: () => number;
  /** OpenAPI docs keyed by file name (env.UPSTREAM_CONTRACT); request bodies are validated against them when present. */
  contract?: Record<string, unknown> | null;
  /** How callbacks are delivered; default globalThis.fetch (looked up at send time). */
  send?: (request: Request) => Promise<Response>;
  timings?: Partial<Timings>;
  /** Largest file the files API accepts (default 100 MB, EvoLink's limit; benchmarks raise it). */
  filesMaxBytes?: number;
  /** Files the files API keeps at once (default 2000, EvoLink's default user group); its quota answer says so. */
  filesMaxFiles?: number;
  /** Origin of the results' links (default https://media.sim.evolink.test); the simulator serves /media/* on any host. */
  mediaBaseUrl?: string;
  /** Size of each completed task's result in bytes (default 2,000,000); `POST /__sim/media` changes it. */
  resultBytes?: number;
  /** How long a result link works after the task ends, on the sim clock (default 24 h, as EvoLink's). */
  resultTtlMs?: number;
  /** Accept http and internal callback URLs (local development only; the real upstream refuses them). */
  allowLocalCallbacks?: boolean;
}

/** The accepted create body, after validation (unknown fields are refused, so this is all of it). */
export interface CreateBody {
  model: string;
  prompt: string;
  video_urls: string[];
  aspect_ratio?: string;
  quality?: string;
  duration?: number;
  model_params?: { shot_type?: string };
  generate_audio?: boolean;
  callback_url?: string;
}

export interface SimTask {
  id: string;
  /** Unix seconds, as the upstream reports it. */
  created: number;
  /** Sim-clock ms of creation. */
  createdAt: number;
  request: CreateBody;
  outcome: Outcome;
  status: TaskStatus;
  progress: number;
  creditsReserved: number;
  /** Sim-clock ms at which the outcome was reached. */
  finishedAt?: number;
  /** Size of its result, should it complete (the media setting when it was created). */
  resultBytes: number;
  idempotencyKey?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path plus query string. */
  path: string;
  /** All request headers; `authorization` is replaced by "[present]" (absent when it was absent). */
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, the raw text otherwise, null when there is none. */
  body: unknown;
}

export interface CallbackAttempt {
  taskId: string;
  url: string;
  /** 1 = first delivery, 2..4 = the retries. */
  attempt: number;
  status?: number;
  error?: string;
  /** Sim-clock ms at which the attempt finished. */
  at: number;
}

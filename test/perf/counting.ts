// Storage and I/O counters for the hot-path budget (storage-ops.test.ts): wraps every KV namespace, Durable
// Object namespace, Queue and Rate Limiting binding of an env so that each operation is tallied by binding
// and method (KV also by key prefix, e.g. `KV.get tenant:`), while still reaching the real local binding.
import type { Env } from "../../src/env";

/** Operation → count, e.g. { "KV.get issuer:": 1, "TENANT_STATE.admit": 1 }. */
export type Tally = Record<string, number>;

export interface CountingEnv {
  env: Env;
  /** The operations since the last call, and a fresh start. */
  take(): Tally;
}

type AnyFn = (...args: unknown[]) => unknown;

export function countingEnv(base: Env): CountingEnv {
  let tally: Tally = {};
  const count = (op: string) => {
    tally[op] = (tally[op] ?? 0) + 1;
  };
  const env = { ...base } as Record<string, unknown>;
  for (const [name, binding] of Object.entries(base)) {
    if (isKv(binding)) env[name] = wrapKv(name, binding, count);
    else if (isNamespace(binding)) env[name] = wrapNamespace(name, binding, count);
    else if (isQueue(binding)) env[name] = wrapMethods(name, binding, ["send", "sendBatch"], count);
    else if (isRateLimit(binding)) env[name] = wrapMethods(name, binding, ["limit"], count);
  }
  return {
    env: env as unknown as Env,
    take() {
      const out = tally;
      tally = {};
      return out;
    },
  };
}

const KV_METHODS = ["get", "getWithMetadata", "put", "delete", "list"];

function wrapKv(name: string, kv: KVNamespace, count: (op: string) => void): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      if (typeof prop !== "string" || !KV_METHODS.includes(prop)) return (value as AnyFn).bind(target);
      return (...args: unknown[]) => {
        count(`${name}.${prop} ${keyPrefix(args[0])}`);
        return Reflect.apply(value as AnyFn, target, args);
      };
    },
  });
}

/** `tenant:acme` → `tenant:`; a list's options → its prefix. */
function keyPrefix(arg: unknown): string {
  const key = typeof arg === "string" ? arg : ((arg as { prefix?: string } | undefined)?.prefix ?? "");
  const colon = key.indexOf(":");
  return colon === -1 ? key : key.slice(0, colon + 1);
}

function wrapNamespace(
  name: string,
  ns: DurableObjectNamespace,
  count: (op: string) => void,
): DurableObjectNamespace {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      if (prop !== "get" && prop !== "getByName") return (value as AnyFn).bind(target);
      // Getting a stub is not I/O; every method called on it is one round trip to the object.
      return (...args: unknown[]) =>
        wrapStub(name, Reflect.apply(value as AnyFn, target, args) as object, count);
    },
  });
}

function wrapStub(name: string, stub: object, count: (op: string) => void): object {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof prop !== "string" || prop === "then" || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        count(`${name}.${prop}`);
        return Reflect.apply(value as AnyFn, target, args);
      };
    },
  });
}

function wrapMethods<T extends object>(
  name: string,
  obj: T,
  methods: string[],
  count: (op: string) => void,
): T {
  return new Proxy(obj, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      if (typeof prop !== "string" || !methods.includes(prop)) return (value as AnyFn).bind(target);
      return (...args: unknown[]) => {
        count(`${name}.${prop}`);
        return Reflect.apply(value as AnyFn, target, args);
      };
    },
  });
}

const hasFns = (v: unknown, ...names: string[]) =>
  typeof v === "object" &&
  v !== null &&
  names.every((n) => typeof (v as Record<string, unknown>)[n] === "function");
const isKv = (v: unknown): v is KVNamespace => hasFns(v, "get", "put", "list", "getWithMetadata");
const isNamespace = (v: unknown): v is DurableObjectNamespace => hasFns(v, "idFromName", "get");
const isQueue = (v: unknown): v is Queue => hasFns(v, "send", "sendBatch");
const isRateLimit = (v: unknown): v is RateLimit => hasFns(v, "limit") && !hasFns(v, "get");

// How Worker-side code reaches the Registry: one named object, seen through its RPC interface, so no route
// imports the Durable Object class (the class lives in src/registry-object/ and is exported by src/index.ts).
import type { Env } from "../env";
import type { RegistryApi } from "./registry";

export type {
  RegistryApi,
  RegistryDeleteResult,
  RegistryListPage,
  RegistryListQuery,
  RegistryPutResult,
  RegistryRotateResult,
  RegistryStatusResult,
  UpstreamStatus,
} from "./registry";

export function registry(env: Env): RegistryApi {
  // RPC typing cannot express a tenant record's open-ended JWK members (`unknown`), so the stub is seen
  // through the interface the class implements; the object returns these plain objects as they are.
  return env.REGISTRY.get(env.REGISTRY.idFromName("registry")) as unknown as RegistryApi;
}

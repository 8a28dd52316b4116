// Types of ./cli.mjs for the TypeScript tests that drive it against the real app.
export interface CliIo {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  readFile: (path: string) => Promise<string>;
}
export interface Parsed {
  positionals: string[];
  flags: Record<string, string | true>;
}
export interface Plan {
  method: string;
  path: string;
  body?: unknown;
  render: (data: any) => string;
}
export const USAGE: string;
export class UsageError extends Error {}
export function parseArgs(argv: string[]): Parsed;
export function plan(parsed: Parsed, readFile: (path: string) => Promise<string>): Promise<Plan>;
export function run(argv: string[], io: CliIo): Promise<number>;
export function table(headers: string[], rows: unknown[][]): string;

// What a task costs in credits, per EvoLink's pricing-rules snapshot (README §6): per second of input plus
// output, 2.38 credits/s at 720p with audio, ×1.67 at 1080p, ×0.5 without audio, minimum 9, rounded half up.
// The non-flash model: 4.76 credits/s, no audio switch (so no silent discount).
// The simulator assumes every reference clip is long enough to hit the input cap (5 s split across clips).
import type { CreateBody } from "./types";

export const CREDITS_PER_SECOND = 2.38;
export const NON_FLASH_CREDITS_PER_SECOND = 4.76;
export const MINIMUM_CHARGE_CREDITS = 9;
export const QUALITY_FACTOR_1080P = 1.67;
export const SILENT_FACTOR = 0.5;
export const DEFAULT_OUTPUT_SECONDS = 5;
/** Per-clip input cap by clip count: 1 → 5 s, 2 → 2.5 s each, 3 → 1.65 s each. */
const INPUT_CAP_PER_CLIP: Record<number, number> = { 1: 5, 2: 2.5, 3: 1.65 };

/** Billed input seconds for `clips` reference videos that are each at least as long as the cap. */
export function inputSeconds(clips: number): number {
  return clips * (INPUT_CAP_PER_CLIP[clips] ?? 0);
}

/** Credits for a request, rounded half up to 2 decimals. */
export function creditsFor(
  body: Pick<CreateBody, "model" | "video_urls" | "duration" | "quality" | "generate_audio">,
): number {
  const flash = body.model !== "wan2.6-reference-video";
  const seconds = inputSeconds(body.video_urls.length) + (body.duration ?? DEFAULT_OUTPUT_SECONDS);
  const quality = body.quality === "1080p" ? QUALITY_FACTOR_1080P : 1;
  const audio = flash && body.generate_audio === false ? SILENT_FACTOR : 1;
  const rate = flash ? CREDITS_PER_SECOND : NON_FLASH_CREDITS_PER_SECOND;
  const credits = Math.max(MINIMUM_CHARGE_CREDITS, seconds * quality * audio * rate);
  return Math.round(credits * 100 + 1e-6) / 100;
}

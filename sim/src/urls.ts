// URL checks from the upstream's prose (README §1, §5): reference videos are http(s) URLs; a callback_url is
// https only, at most 2048 characters and never an internal address ("127.0.0.1, 10.x.x.x, 172.16-31.x.x,
// 192.168.x.x, etc."). The "etc." is read generously: loopback, private, link-local, CGNAT, local names.

export const MAX_CALLBACK_URL_LENGTH = 2048;

export function parseHttpUrl(value: string): URL | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url : null;
}

/** The problem with a callback URL, or null when the upstream would accept it. */
export function callbackUrlProblem(value: string, allowLocal: boolean): string | null {
  if (value.length > MAX_CALLBACK_URL_LENGTH)
    return `callback_url must be at most ${MAX_CALLBACK_URL_LENGTH} characters`;
  const url = parseHttpUrl(value);
  if (!url) return "callback_url must be an absolute https URL";
  if (allowLocal) return null;
  if (url.protocol !== "https:") return "callback_url must use https (only HTTPS protocol supported)";
  if (isInternalHost(url.hostname)) return "callback_url must not point to an internal address";
  return null;
}

export function isInternalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) return isInternalIpv6(host.slice(1, -1));
  const v4 = parseIpv4(host);
  if (v4) return isInternalIpv4(v4);
  if (!host.includes(".")) return true; // single-label names only resolve on a private network
  return /(^|\.)(localhost|local|internal|lan|home\.arpa)$/.test(host);
}

function parseIpv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function isInternalIpv4([a = 0, b = 0]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

function isInternalIpv6(host: string): boolean {
  if (host === "::" || host === "::1") return true;
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const hi = parseInt(mapped[1] ?? "0", 16);
    const lo = parseInt(mapped[2] ?? "0", 16);
    return isInternalIpv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  return /^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host);
}

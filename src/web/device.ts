import { UAParser } from 'ua-parser-js';

/** Client and device parsed from a user agent, in the Face Match API's (FACEKI-style) shape. */
export interface DeviceDetails {
  useragent: string | null;
  detectResult: {
    client: { type: string | null; name: string | null; version: string | null };
    device: { id: string | null; type: string | null; brand: string | null; model: string | null };
  };
}

export interface AgentSummary {
  browser: string | null;
  os: string | null;
  device: string | null;
}

/** User agents are attacker-controlled: cap what is parsed and stored. */
const MAX_UA_LENGTH = 512;
const DESKTOP_OS = new Set(['Windows', 'Mac OS', 'macOS', 'Linux', 'Ubuntu', 'Debian', 'Fedora', 'Chromium OS', 'FreeBSD', 'OpenBSD']);
// Backends call the API with HTTP libraries, which a browser-oriented parser does not name.
const LIBRARY = /^(curl|wget|python-requests|python-urllib|aiohttp|httpx|okhttp|go-http-client|java|apache-httpclient|axios|node-fetch|node|undici|got|ruby|faraday|guzzlehttp|postmanruntime|insomnia|dart)(?:\/([\w.-]+))?/i;

const orNull = (v: string | undefined) => (v ? v : null);

function slug(...parts: (string | undefined)[]): string | null {
  const s = parts.filter(Boolean).join('-').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return s || null;
}

function parse(userAgent: string | null | undefined) {
  const ua = userAgent?.trim().slice(0, MAX_UA_LENGTH) || null;
  return { ua, result: ua ? new UAParser(ua).getResult() : null };
}

/** Browsers, HTTP libraries and devices (ua-parser-js, MIT; a few microseconds per call on the event loop). */
export function deviceDetails(userAgent: string | null | undefined): DeviceDetails {
  const { ua, result } = parse(userAgent);
  if (!ua || !result) return { useragent: null, detectResult: { client: { type: null, name: null, version: null }, device: { id: null, type: null, brand: null, model: null } } };
  const library = result.browser.name ? null : LIBRARY.exec(ua);
  const { device, os } = result;
  return {
    useragent: ua,
    detectResult: {
      client: result.browser.name
        ? { type: 'browser', name: result.browser.name, version: orNull(result.browser.version) }
        : { type: library ? 'library' : null, name: library?.[1] ?? null, version: library?.[2] ?? null },
      device: {
        id: slug(device.vendor, device.model),
        type: device.type ?? (os.name && DESKTOP_OS.has(os.name) ? 'desktop' : null),
        brand: orNull(device.vendor),
        model: orNull(device.model),
      },
    },
  };
}

const join = (...parts: (string | undefined)[]) => parts.filter(Boolean).join(' ') || null;

/** The parsed user agent recorded with sign-in attempts, e.g. {browser: "Chrome 124", os: "Android 14", device: "mobile Samsung SM-S918B"}. */
export function summarizeAgent(userAgent: string | null | undefined): AgentSummary {
  const { result } = parse(userAgent);
  if (!result) return { browser: null, os: null, device: null };
  return { browser: join(result.browser.name, result.browser.major), os: join(result.os.name, result.os.version), device: join(result.device.type, result.device.vendor, result.device.model) };
}

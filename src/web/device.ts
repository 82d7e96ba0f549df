import { createRequire } from 'node:module';
import type Detector from 'node-device-detector';

// The package is CommonJS (module.exports = class) while its typings declare a default export.
const DeviceDetector = createRequire(import.meta.url)('node-device-detector') as typeof Detector.default;

/** Client and device parsed from a user agent, in the Face Match API's (FACEKI-style) shape. */
export interface DeviceDetails {
  useragent: string | null;
  detectResult: {
    client: { type: string | null; name: string | null; version: string | null };
    device: { id: string | null; type: string | null; brand: string | null; model: string | null };
  };
}

/** User agents are attacker-controlled: cap what is parsed and stored. */
const MAX_UA_LENGTH = 512;

// Building the detector compiles its rule sets: once per process, on first use.
let detector: InstanceType<typeof DeviceDetector> | null = null;

const orNull = (v: string | undefined) => (v ? v : null);

/** Parses a user agent (Matomo's device-detector rules, MIT): browsers, apps, HTTP libraries, devices. */
export function deviceDetails(userAgent: string | null | undefined): DeviceDetails {
  const ua = userAgent?.trim().slice(0, MAX_UA_LENGTH) || null;
  if (!ua) return { useragent: null, detectResult: { client: { type: null, name: null, version: null }, device: { id: null, type: null, brand: null, model: null } } };
  detector ??= new DeviceDetector({ clientIndexes: true, deviceIndexes: true, deviceAliasCode: false });
  const { client, device } = detector.detect(ua);
  const c = client as { type?: string; name?: string; version?: string };
  return {
    useragent: ua,
    detectResult: {
      client: { type: orNull(c.type), name: orNull(c.name), version: orNull(c.version) },
      device: { id: orNull(device.id), type: orNull(device.type), brand: orNull(device.brand), model: orNull(device.model) },
    },
  };
}

export interface AgentSummary {
  browser: string | null;
  os: string | null;
  device: string | null;
}

const join = (...parts: (string | null | undefined)[]) => parts.filter(Boolean).join(' ') || null;

/** The parsed user agent recorded with sign-in attempts, e.g. {browser: "Chrome 124", os: "Android 14", device: "smartphone Samsung SM-S918B"}. */
export function summarizeAgent(userAgent: string | null | undefined): AgentSummary {
  const ua = userAgent?.trim().slice(0, MAX_UA_LENGTH);
  if (!ua) return { browser: null, os: null, device: null };
  detector ??= new DeviceDetector({ clientIndexes: true, deviceIndexes: true, deviceAliasCode: false });
  const { client, os, device } = detector.detect(ua);
  const c = client as { name?: string; version?: string };
  return { browser: join(c.name, c.version?.split('.')[0]), os: join(os.name, os.version), device: join(device.type, device.brand, device.model) };
}

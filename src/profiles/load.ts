/**
 * Loads profiles: built-ins by name (files under the package's `profiles/` folder) or a
 * .yaml/.yml/.json file by path. Every problem becomes a one-line ProfileError.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isNode, LineCounter, parseDocument, stringify } from "yaml";
import type { z } from "zod";
import { ProfileError, UsageError } from "../errors.js";
import {
  FaultSpecError,
  formatDuration,
  formatFault,
  parseDuration,
  parseFault,
  type Fault,
} from "../faults/spec.js";
import {
  CLIENTS,
  faultProblem,
  profileSchema,
  type Claim,
  type ClientName,
  type Profile,
} from "./schema.js";

/** This module lives in `src/profiles/` or `dist/profiles/`, two levels under the root. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const PROFILES_DIR = path.join(PACKAGE_ROOT, "profiles");

const EXTENSIONS = [".yaml", ".yml", ".json"];

/** Line number (1-based) of the value at a field path, when the source can tell. */
type LineOf = (fieldPath: readonly PropertyKey[]) => number | undefined;

export async function loadProfile(nameOrPath: string): Promise<Profile> {
  const file = await resolveProfile(nameOrPath);
  const shown = displayPath(file);
  const text = await readText(file, shown);
  const isJson = path.extname(file).toLowerCase() === ".json";
  const parsed = isJson ? parseJson(text, shown) : parseYaml(text, shown);
  const profile = validate(parsed.data, shown, parsed.lineOf);
  // An app's working directory is relative to its profile file: the two travel together.
  if (profile.app) {
    profile.app = { ...profile.app, cwd: path.resolve(path.dirname(file), profile.app.cwd ?? ".") };
  }
  return profile;
}

export async function listProfiles(): Promise<
  { name: string; description: string; claims: Claim }[]
> {
  const names = await builtInNames();
  const profiles = await Promise.all(
    names.map((name) => loadProfile(path.join(PROFILES_DIR, `${name}.yaml`))),
  );
  return profiles.map(({ name, description, claims }) => ({ name, description, claims }));
}

/** The profile as YAML, in the form a profile file takes (loads back to the same profile). */
export function profileToYaml(profile: Profile): string {
  const { duration, ...workload } = profile.workload;
  return stringify(
    {
      name: profile.name,
      description: profile.description,
      claims: profile.claims,
      client: profile.client,
      producer: {
        ...profile.producer,
        acks: profile.producer.acks === -1 ? "all" : profile.producer.acks,
      },
      workload:
        duration === undefined ? workload : { ...workload, duration: formatDuration(duration) },
      processor: profile.processor,
      sink: profile.sink,
      ...(profile.brokers ? { brokers: profile.brokers } : {}),
      ...(profile.listeners ? { listeners: profile.listeners } : {}),
      ...(profile.app ? { app: profile.app } : {}),
      faults: profile.faults.map(formatFault),
      ...(profile.seed === undefined ? {} : { seed: profile.seed }),
      expect: profile.expect,
      ...(profile.relax.length > 0 ? { relax: profile.relax } : {}),
    },
    { lineWidth: 0 },
  );
}

export interface Overrides {
  messages?: number;
  /** `30s`, `2m`, or ms */
  duration?: string | number;
  /** Replace the profile's faults when non-empty; `["none"]` runs without faults. */
  faults?: readonly (string | Fault)[];
  /** the processor's client library */
  client?: string;
}

/** CLI flags on top of a profile. Returns a new profile; throws UsageError on a bad value. */
export function applyOverrides(profile: Profile, overrides: Overrides): Profile {
  const workload = { ...profile.workload };
  if (overrides.messages !== undefined) workload.messages = checkMessages(overrides.messages);
  if (overrides.duration !== undefined) workload.duration = checkDuration(overrides.duration);
  const faults = overrides.faults?.length ? toFaults(overrides.faults, profile) : profile.faults;
  const client = overrides.client === undefined ? profile.client : checkClient(overrides.client);
  return { ...profile, workload, faults, client };
}

function checkClient(client: string): ClientName {
  if ((CLIENTS as readonly string[]).includes(client)) return client as ClientName;
  throw new UsageError(`--client: expected one of ${CLIENTS.join(", ")}, got "${client}"`);
}

function checkMessages(messages: number): number {
  if (Number.isInteger(messages) && messages > 0) return messages;
  throw new UsageError(`--messages: expected a whole number > 0, got ${messages}`);
}

function checkDuration(value: string | number): number {
  const ms = parseDuration(value, "--duration");
  if (ms > 0) return ms;
  throw new UsageError(`--duration: must be more than 0, got "${value}"`);
}

/** --fault specs must fit the profile's processor just as the profile's own faults do. */
function toFaults(faults: readonly (string | Fault)[], profile: Profile): Fault[] {
  if (faults.length === 1 && faults[0] === "none") return [];
  return faults.map((given) => {
    const fault = typeof given === "string" ? parseFault(given) : given;
    const found = faultProblem(fault, profile.processor, profile.sink, profile.app);
    if (!found) return fault;
    const spec = typeof given === "string" ? given : formatFault(fault);
    throw new FaultSpecError(found.key, `${found.problem} (profile ${profile.name})`, spec);
  });
}

async function resolveProfile(nameOrPath: string): Promise<string> {
  const isPath = /[\\/]/.test(nameOrPath) || path.extname(nameOrPath) !== "";
  if (isPath) {
    if (EXTENSIONS.includes(path.extname(nameOrPath).toLowerCase()))
      return path.resolve(nameOrPath);
    throw new ProfileError(nameOrPath, "", "expected a .yaml, .yml or .json file");
  }
  const builtIns = await builtInNames();
  if (builtIns.includes(nameOrPath)) return path.join(PROFILES_DIR, `${nameOrPath}.yaml`);
  const problem = `no built-in profile of that name (built-ins: ${builtIns.join(", ")}); give a .yaml or .json path for your own`;
  throw new ProfileError(nameOrPath, "", problem);
}

async function builtInNames(): Promise<string[]> {
  const files = await readdir(PROFILES_DIR).catch(() => []);
  return files
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => file.slice(0, -5))
    .sort();
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

async function readText(file: string, shown: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === "ENOENT" ? "file not found" : `cannot read: ${(error as Error).message}`;
    throw new ProfileError(shown, "", problem, { cause: error });
  }
}

function parseJson(text: string, shown: string): { data: unknown; lineOf: LineOf } {
  try {
    return { data: JSON.parse(text), lineOf: () => undefined };
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message);
    const where = position ? `line ${lineAt(text, Number(position[1]))}` : "";
    throw new ProfileError(shown, where, `invalid JSON: ${message}`, { cause: error });
  }
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

function parseYaml(text: string, shown: string): { data: unknown; lineOf: LineOf } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new ProfileError(shown, `line ${line}, column ${col}`, error.message, { cause: error });
  }
  /** The line of the value, or of the nearest enclosing one (a key inside a fault string). */
  const lineOf: LineOf = (fieldPath) => {
    for (let length = fieldPath.length; length > 0; length--) {
      const node = doc.getIn(fieldPath.slice(0, length), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return { data: doc.toJS(), lineOf };
}

function validate(data: unknown, shown: string, lineOf: LineOf): Profile {
  if (data === null || data === undefined) {
    throw new ProfileError(shown, "", "empty file; a profile needs at least a name");
  }
  const result = profileSchema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ProfileError(shown, "", "invalid profile");
  const fieldPath =
    issue.code === "unrecognized_keys" ? [...issue.path, ...issue.keys.slice(0, 1)] : issue.path;
  const line = lineOf(fieldPath);
  const problem = describe(issue) + (line === undefined ? "" : ` (line ${line})`);
  throw new ProfileError(shown, formatFieldPath(fieldPath), problem);
}

/** zod's message without its generic prefix; a missing field says so. */
function describe(issue: z.core.$ZodIssue): string {
  const message = issue.message.replace(/^(Invalid input|Invalid option|Too small|Too big): /, "");
  return message.endsWith("received undefined") ? `missing (${message.split(",")[0]})` : message;
}

/** `["faults", 1, "for"]` → `faults[1].for`. */
export function formatFieldPath(fieldPath: readonly PropertyKey[]): string {
  return fieldPath.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    return out === "" ? String(key) : `${out}.${String(key)}`;
  }, "");
}

// Reading docker-compose.yml, .env.example and deploy/ for the deployment checks.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

/** The repository root (this file runs from services/aggregator/dist/test/deploy/). */
export const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

export interface ComposeService {
  readonly image?: string;
  readonly pull_policy?: string;
  readonly build?: { context: string; dockerfile: string };
  readonly command?: string[];
  readonly entrypoint?: string[];
  readonly environment?: Record<string, string>;
  readonly ports?: string[];
  readonly volumes?: string[];
  readonly depends_on?: Record<string, { condition: string }>;
  readonly healthcheck?: { test: string[] };
}

export interface ComposeFile {
  readonly services: Record<string, ComposeService>;
  readonly volumes: Record<string, unknown>;
}

export function readText(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

export function readYaml<T>(path: string): T {
  return parse(readText(path), { merge: true }) as T;
}

export function compose(): ComposeFile {
  return readYaml<ComposeFile>('docker-compose.yml');
}

/** KEY=value lines of .env.example. */
export function envExample(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readText('.env.example').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Compose interpolation: ${X}, ${X:-default}, ${X:?error}, $$ -> $. */
export function interpolate(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g, (all, name, op, arg) => {
    if (all === '$$') return '$';
    const v = vars[name as string];
    if (v !== undefined && v !== '') return v;
    if (op === '-') return arg as string;
    if (op === '?') throw new Error(`${name as string} is required: ${arg as string}`);
    return '';
  });
}

/** A service's environment as the container sees it, with .env.example's values. */
export function serviceEnv(service: ComposeService, vars = envExample()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.environment ?? {})) out[k] = interpolate(String(v), vars);
  return out;
}

/** Every file under deploy/ (relative to the root), recursively. */
export function deployFiles(dir = join(ROOT, 'deploy')): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...deployFiles(full));
    else out.push(relative(ROOT, full));
  }
  return out.sort();
}

/** All YAML documents of a file (k8s files hold several). */
export function yamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readText(path)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]!.message}`);
    return doc.toJS() as unknown;
  });
}

/** The exec-form CMD of a Dockerfile's last stage. */
export function dockerfileCmd(path: string): string[] {
  const lines = readText(path).split('\n');
  const cmd = lines.filter((l) => l.startsWith('CMD ')).at(-1);
  if (cmd === undefined) throw new Error(`${path} has no CMD`);
  return JSON.parse(cmd.slice(4)) as string[];
}

export function hostPort(address: string): { host: string; port: number } {
  const url = /^[a-z]+:\/\//.test(address) ? new URL(address) : new URL(`tcp://${address}`);
  return { host: url.hostname, port: Number(url.port) };
}

// A ClickHouse server of the test's own (the binary scripts/services.sh installs, the same
// config template, a temp data directory and free loopback ports), so a test can kill -9 it and
// start it again without touching the shared server.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'scripts', 'clickhouse', 'config.xml.template'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('scripts/clickhouse/config.xml.template not found above the test');
    dir = parent;
  }
  return dir;
}

function serverBinary(): string {
  for (const candidate of ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server']) {
    if (existsSync(candidate)) return candidate;
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, 'clickhouse-server'))) return join(dir, 'clickhouse-server');
  }
  throw new Error('clickhouse-server not found: run `bash scripts/services.sh up` once (it installs it)');
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class ClickHouseProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    readonly httpPort: number,
    private readonly binary: string,
  ) {}

  /** Prepares a data directory and config on free ports; `start()` runs the server. */
  static async create(): Promise<ClickHouseProcess> {
    const binary = serverBinary();
    const root = repoRoot();
    const dir = await mkdtemp(join(tmpdir(), 'costtrace-ch-'));
    for (const sub of ['log', 'data', 'tmp', 'user_files', 'format_schemas']) await mkdir(join(dir, sub));
    const [httpPort, tcpPort] = [await freePort(), await freePort()];
    const template = await readFile(join(root, 'scripts', 'clickhouse', 'config.xml.template'), 'utf8');
    await writeFile(
      join(dir, 'config.xml'),
      template
        .replaceAll('@ROOT@', dir)
        .replaceAll('@HTTP_PORT@', String(httpPort))
        .replaceAll('@TCP_PORT@', String(tcpPort)),
    );
    await copyFile(join(root, 'scripts', 'clickhouse', 'users.xml'), join(dir, 'users.xml'));
    return new ClickHouseProcess(dir, httpPort, binary);
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server and waits (bounded) until it answers a query. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.child !== undefined) throw new Error('ClickHouse is already running');
    const child = spawn(this.binary, [`--config-file=${join(this.dir, 'config.xml')}`], {
      cwd: this.dir,
      stdio: 'ignore',
    });
    this.child = child;
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child !== child) throw new Error(`ClickHouse exited during start; see ${this.dir}/log`);
      const answer = await fetch(`${this.url}/?query=SELECT%201`, { signal: AbortSignal.timeout(2_000) })
        .then((res) => res.text())
        .catch(() => '');
      if (answer.trim() === '1') return;
      if (Date.now() > deadline)
        throw new Error(`ClickHouse did not answer within ${timeoutMs} ms; see ${this.dir}/log`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** kill -9, and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Graceful stop, then removes the data directory. */
  async destroy(): Promise<void> {
    const child = this.child;
    if (child !== undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

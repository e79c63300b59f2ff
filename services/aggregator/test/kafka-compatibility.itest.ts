// Guards the pinned Kafka version (README "Why Kafka 4.4.0"): kafkajs must create topics,
// produce (plain and idempotent), consume in a group, commit and read back offsets, list
// partition offsets and describe groups against the broker scripts/services.sh runs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { liveServices } from './support/live-services.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../../scripts/kafka-compat-check.mjs', import.meta.url));

describe('kafkajs against the local Kafka broker', () => {
  it('passes every compatibility step', async () => {
    const { kafkaBrokers } = liveServices();
    const { stdout } = await run(process.execPath, [script, kafkaBrokers[0]!], { timeout: 90_000 });
    const steps = stdout
      .trim()
      .split('\n')
      .filter((line) => /^(ok|FAIL) /.test(line));
    assert.deepEqual(
      steps.map((line) => line.slice(0, 4).trim()),
      Array(9).fill('ok'),
      stdout,
    );
  });
});

#!/usr/bin/env node
// Prints what the GPU sampler sees on this host as JSON, for checking it on a GPU machine:
//   node packages/otel/dist/src/gpu/sample-once.js
// Exit status 0 with "available": false where there is no GPU or no nvidia-smi.
import { devicesOf, sampleGpus } from './gpu-sampler.js';

const sample = await sampleGpus();
process.stdout.write(`${JSON.stringify({ ...sample, devices: devicesOf(sample) }, null, 2)}\n`);

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../scripts/local-stack.js';
import type { TestStack } from './stack.js';

const CLI = join(projectRoot(), 'bin', 'event-service.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npx event-service …` against the stack, as a user runs it (the package's bin); resolves when it exits. */
export function cli(stack: TestStack, args: string[], { env = {} }: { env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env.PATH,
      EVENT_SERVICE_URL: stack.url('api', ''),
      // The apps this stack runs (a stack without a gateway has no websocket address).
      ...(stack.ports.has('ingest') ? { EVENT_SERVICE_INGEST_URL: stack.url('ingest', '') } : {}),
      ...(stack.ports.has('websocket-gateway') ? { EVENT_SERVICE_WEBSOCKET_URL: stack.url('websocket-gateway', '') } : {}),
      EVENT_SERVICE_TOKEN: stack.token,
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

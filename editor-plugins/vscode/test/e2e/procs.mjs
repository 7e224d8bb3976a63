// Child processes for the e2e run: start in their own process group, wait for a line, kill the whole group.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import * as net from 'node:net';

const started = new Set();

/** Runs a command to completion; rejects with its output's tail on a non-zero exit. */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        resolve(output);
      } else {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-3000)}`));
      }
    });
  });
}

/**
 * Starts a long-running process in its own process group, logging stdout+stderr to `logFile`.
 * `ready(pattern, ms)` resolves when a line matches; the process is killed by `stopAll()`.
 */
export function startProcess(name, command, args, { logFile, ...options }) {
  const log = createWriteStream(logFile);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
  const proc = { name, child, output: '', exited: false, code: null };
  started.add(proc);
  const onData = (d) => {
    proc.output += d;
    log.write(d);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('error', (e) => onData(`\n[spawn error] ${e.message}\n`));
  child.on('exit', (code, signal) => {
    proc.exited = true;
    proc.code = code ?? signal;
    log.end(`\n[${name} exited: ${proc.code}]\n`);
  });
  proc.ready = (pattern, ms) =>
    waitFor(
      () => {
        if (proc.exited) {
          throw new Error(`${name} exited (${proc.code}) before it was ready:\n${proc.output.slice(-2000)}`);
        }
        return pattern.test(proc.output);
      },
      ms,
      `${name} to print ${pattern}`,
    );
  return proc;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills every process group this run started: SIGTERM, then SIGKILL after a grace period. */
export async function stopAll(graceMs = 5000) {
  const procs = [...started].reverse();
  started.clear();
  for (const proc of procs) {
    if (!proc.exited && proc.child.pid !== undefined) {
      try {
        process.kill(-proc.child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  const deadline = Date.now() + graceMs;
  for (const proc of procs) {
    const pid = proc.child.pid;
    if (pid === undefined) {
      continue;
    }
    while (Date.now() < deadline && alive(-pid)) {
      await sleep(100);
    }
    if (alive(-pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` (sync or async) until it returns a truthy value; throws after `ms`. */
export async function waitFor(check, ms, what, intervalMs = 200) {
  const deadline = Date.now() + ms;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) {
        return value;
      }
    } catch (error) {
      if (/exited|before it was ready/.test(String(error))) {
        throw error;
      }
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? ` (last error: ${lastError.message ?? lastError})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

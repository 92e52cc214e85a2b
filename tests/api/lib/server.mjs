// A second `doudi serve` on the suite's database (timeouts, shutdown, lost database tests).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { BIN, DB } from './env.mjs';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Starts another `doudi serve` on the suite's database, with `args` added (e.g. a short
 * --timeout); resolves once it answers /health with {port, base, proc, exited (a promise of
 * {code, signal}), log() (its output so far), kill()}.
 */
export async function startServer(args = []) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // --monitor-day 0: the suite's own server is the one that runs the monthly matching.
  const proc = spawn(BIN, ['serve', '--db', DB, '--listen', `127.0.0.1:${port}`, '--monitor-day', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); };
  process.on('exit', kill);  // a failed test never leaves it running
  let up = false;
  for (let i = 0; i < 100 && !up; ++i) {
    up = await fetch(`${base}/api/v1/health`).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) {
    kill();
    throw new Error(`the second server did not start: ${log}`);
  }
  return { port, base, proc, exited, log: () => log, kill };
}

/**
 * Sends SIGTERM to a server from startServer and waits up to `ms` for it to exit: resolves with
 * {code, signal, ms}; if it is still running then, kills it and throws.
 */
export async function stopServer(server, ms = 30000) {
  const started = Date.now();
  server.proc.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, ms, null); });
  const exit = await Promise.race([server.exited, late]);
  clearTimeout(timer);
  if (!exit) {
    server.kill();
    throw new Error(`the server did not exit within ${ms} ms of SIGTERM: ${server.log().slice(-2000)}`);
  }
  return { ...exit, ms: Date.now() - started };
}

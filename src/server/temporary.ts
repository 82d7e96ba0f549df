import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/index.js';
import { startServer, type RunningServer } from './start.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * A throw-away server on 127.0.0.1 with its own embedded database, for benchmarks: started, handed to `fn`, then
 * stopped and removed. `env` can point it at PostgreSQL/Redis instead.
 */
export async function withTemporaryServer<T>(env: Record<string, string>, fn: (server: RunningServer) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'face-oidc-bench-'));
  const port = await freePort();
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'silent',
    DEMO_APP: 'false',
    RATE_LIMIT_PER_IP_PER_MINUTE: '100000',
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    ...env,
  });
  const server = await startServer(config);
  try {
    return await fn(server);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

import { existsSync } from 'node:fs';
import { defineConfig } from 'prisma/config';

// The CLI's native schema engine cannot be downloaded on every machine; `prisma generate` does not use it but
// insists that the binary exists. Point it at any file only for `generate`, so a machine with the real engine
// can still run `prisma migrate`.
if (process.argv.includes('generate') && !process.env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const engine = 'node_modules/@prisma/engines/package.json';
  if (existsSync(engine)) process.env.PRISMA_SCHEMA_ENGINE_BINARY = engine;
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/face_oidc' },
});

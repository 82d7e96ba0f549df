# syntax=docker/dockerfile:1
# Node.js 24 is the active LTS (package.json engines also accepts 20.19+, which reached end of life in April 2026).
# Build: compile TypeScript and generate the Prisma client, then keep production dependencies only.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script only fetches CUDA files; the CPU runtime ships inside the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

# Run: non-root, models and views included, data outside the image.
FROM node:24-bookworm-slim
ENV NODE_ENV=production PORT=3000 DATA_DIR=/data
# glibc raises its mmap threshold to the size of each large block freed (mallopt(3)), so after the first few decoded
# photos every image-sized buffer comes from the threads' malloc arenas, which fragment and never give the memory
# back: a document reader grew by ~110 MB over 500 reads. A fixed threshold (glibc's initial 128 KiB) keeps such
# buffers in their own mappings, returned on free (src/documents/README.md, Memory).
ENV MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY prisma/migrations ./prisma/migrations
COPY models ./models
COPY views ./views
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli/main.js", "start"]

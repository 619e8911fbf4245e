# unstick: one image for `worker`, `webhook`, `sweep`, `schedule` and `audit` (the command is the argument).
# test/deploy/image.test.ts performs these same steps without a Docker engine: build, `npm ci --omit=dev`, run dist/.
# glibc base: the Temporal core SDK ships no musl (Alpine) binaries.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
# The image has no .git: pass the commit for the default build ID (docker build --build-arg UNSTICK_GIT_COMMIT=$(git rev-parse HEAD) .)
ARG UNSTICK_GIT_COMMIT
# dist/ (compiled JavaScript) and dist/workflow-bundle.js (the workflows, bundled once here instead of at every start)
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
# No src/ in the image: bin/unstick.js runs dist/ (no tsx, no TypeScript, no webpack at run time).
# The image's `node` user by number, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# The worker drains in-flight activities on SIGTERM (shutdownGraceTime 10 s); give it that long before SIGKILL.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/unstick.js"]
CMD ["worker"]

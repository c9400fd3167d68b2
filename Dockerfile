# isartor in a container, for linux/amd64 and linux/arm64 (the release workflow
# builds and pushes both).
#
#   docker build -t isartor .
#   docker run --rm -p 8080:8080 \
#     -e ISARTOR__GATEWAY_API_KEY=choose-a-long-secret \
#     -e ISARTOR__LLM_PROVIDER=openai -e ISARTOR__EXTERNAL_LLM_API_KEY=sk-... \
#     -v isartor-data:/data isartor
#
# The gateway binds 0.0.0.0 here, and isartor refuses a non-loopback bind without a
# gateway key: ISARTOR__GATEWAY_API_KEY (or gateway_api_key in the config file) is required.
# Configuration: ISARTOR__* variables, or a file mounted at /app/isartor.toml.
# The MiniLM embedding model (semantic cache) is baked in at /opt/isartor/models, outside
# the /data volume; build with --build-arg BAKE_MODEL=0 to leave it out.
FROM denoland/deno:2.9.6

WORKDIR /app

# The data directory: a volume, owned by the unprivileged user of the base image.
ENV ISARTOR__DATA_DIR=/data \
    ISARTOR__MODELS_DIR=/opt/isartor/models
RUN mkdir -p /data /opt/isartor/models && chown deno:deno /data /app /opt/isartor/models

USER deno

# Dependencies first, from the committed lock file, so code changes keep this layer cached.
COPY --chown=deno:deno deno.json deno.lock ./
RUN deno install --frozen

COPY --chown=deno:deno src ./src
COPY --chown=deno:deno cli ./cli
COPY --chown=deno:deno LICENSE ./
RUN deno cache cli/main.ts

# The model, downloaded once at build time; `models pull` checks every file against
# its pinned SHA-256 and fails the build on a mismatch.
ARG BAKE_MODEL=1
RUN if [ "$BAKE_MODEL" = 1 ]; then deno task isartor models pull; fi

VOLUME ["/data"]
EXPOSE 8080

# `isartor __health` asks /healthz (which never needs the gateway key) on the port the
# gateway bound (its pid file in /data), else the configured host_port: a port set with
# ISARTOR__HOST_PORT or isartor.toml is followed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "task", "-q", "isartor", "__health"]

# `isartor up` starts the gateway process with narrow permissions (its address, the provider
# hosts, /data) and forwards SIGTERM to it for a graceful shutdown.
CMD ["deno", "task", "isartor", "up", "--host", "0.0.0.0"]

# isartor in a container.
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
FROM denoland/deno:2.9.6

WORKDIR /app

# The data directory: a volume, owned by the unprivileged user of the base image.
ENV ISARTOR__DATA_DIR=/data
RUN mkdir -p /data && chown deno:deno /data /app

USER deno

# Dependencies first, from the committed lock file, so code changes keep this layer cached.
COPY --chown=deno:deno deno.json deno.lock ./
RUN deno install --frozen

COPY --chown=deno:deno src ./src
COPY --chown=deno:deno cli ./cli
COPY --chown=deno:deno LICENSE ./
RUN deno cache cli/main.ts

VOLUME ["/data"]
EXPOSE 8080

# /healthz never needs the gateway key.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:8080/healthz'); Deno.exit(r.ok ? 0 : 1)"]

# `isartor up` starts the gateway process with narrow permissions (its address, the provider
# hosts, /data) and forwards SIGTERM to it for a graceful shutdown.
CMD ["deno", "task", "isartor", "up", "--host", "0.0.0.0"]

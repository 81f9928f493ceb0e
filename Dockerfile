# syntax=docker/dockerfile:1
# oomscope: one image with all four programs in /usr/local/bin:
#   oomscope-operator, oomscope-analyzer, oomscope-sidecar, oomscope (the CLI).
# Why one image: the programs share every library (lib/common, lib/heap, cpprestsdk, OpenSSL,
# prometheus-cpp), so one image is one set of runtime packages to patch and scan, one build, and
# one pull per node; the operator injects the sidecar with the chart's own image by default, so a
# node running oomscope already has it cached. The CLI costs a few MB and helps when debugging.
#
# Build:  docker build -t ghcr.io/oomscope/oomscope:0.1.0 .
# tests/chart/image_test.js checks that the build stage runs exactly what CI runs, that the
# runtime packages cover `ldd` of the built programs, and that the copied paths are the targets'.

# ---- build: the same scripts CI runs (.ci/run -> scripts/test.sh -> setup.sh, build.sh release).
# build.sh release trains the heap engine's profile (PGO) on snapshots from the Node that setup.sh
# installs, as CI does.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN scripts/setup.sh
RUN scripts/build.sh release --target oomscope-operator oomscope-analyzer oomscope-sidecar oomscope oomscope-net
# Debug info stays in the build stage; the programs ship stripped.
RUN mkdir -p /out \
 && install -m 0755 -s build/release/operator/oomscope-operator /out/oomscope-operator \
 && install -m 0755 -s build/release/analyzer/oomscope-analyzer /out/oomscope-analyzer \
 && install -m 0755 -s build/release/sidecar/oomscope-sidecar /out/oomscope-sidecar \
 && install -m 0755 -s build/release/cli/oomscope /out/oomscope \
 && install -m 0755 -s build/release/cli/oomscope-net /out/oomscope-net

# ---- runtime: Debian 12 slim, only the shared libraries the programs link (their dependencies
# come with them), CA certificates for TLS to the API server and analyzer, a non-root user.
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcpprest2.10 libprometheus-cpp-core1.0 libssl3 libyaml-cpp0.7 zlib1g \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 65532 oomscope \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin oomscope
COPY --from=build /out/ /usr/local/bin/
USER 65532:65532
# The chart (and the operator, for the sidecar) sets the command; the default prints the CLI's help.
CMD ["/usr/local/bin/oomscope", "--help"]

# otlpgate container image: built from Debian 12 packages only, run as an unprivileged user.
#   docker build -t otlpgate .
#   docker run --rm -p 4317:4317 -p 4318:4318 -p 13133:13133 \
#     -v $PWD/my-config.yaml:/etc/otlpgate/config.yaml:ro otlpgate
# The image's default config is config/default.yaml with every listener on 0.0.0.0.
FROM debian:12 AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libssl-dev libzstd-dev zlib1g-dev libdeflate-dev libprotozero-dev libsimdjson-dev \
      libxxhash-dev libyaml-cpp-dev libre2-dev libgtest-dev libgmock-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTLPGATE_BENCH=OFF \
    && cmake --build /build --target otlpgate \
    && strip --strip-debug /build/server/otlpgate \
    && sed -e 's/127\.0\.0\.1:/0.0.0.0:/g' config/default.yaml > /build/config.yaml

FROM debian:12-slim
# The shared libraries the binary links (ldd build/server/otlpgate, mapped with dpkg -S).
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates libabsl20220623 libc-ares2 libdeflate0 libgrpc++1.51 libgrpc29 libre2-9 \
      libsimdjson14 libssl3 libxxhash0 libyaml-cpp0.7 libzstd1 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --shell /usr/sbin/nologin otlpgate \
    && mkdir -p /var/lib/otlpgate && chown otlpgate /var/lib/otlpgate
COPY --from=build /build/server/otlpgate /usr/local/bin/otlpgate
COPY --from=build /build/config.yaml /etc/otlpgate/config.yaml
USER otlpgate
# OTLP/gRPC, OTLP/HTTP, health and /metrics; persistent queues go under /var/lib/otlpgate.
EXPOSE 4317 4318 13133
VOLUME /var/lib/otlpgate
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/otlpgate"]
CMD ["--config", "/etc/otlpgate/config.yaml"]

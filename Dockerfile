# A release build in the Rust image, run from a slim Debian image as an unprivileged user.
# Build with TLS to PostgreSQL: docker build --build-arg FEATURES=pg-tls .

FROM rust:1.95-bookworm AS build
WORKDIR /src
ARG FEATURES=""
# Dependencies first, so that a change to the sources does not rebuild them.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src benches \
 && echo 'fn main() {}' > src/main.rs \
 && echo '' > src/lib.rs \
 && for bench in $(grep -A1 '^\[\[bench\]\]' Cargo.toml | sed -n 's/^name = "\(.*\)"/\1/p'); do \
        echo 'fn main() {}' > "benches/$bench.rs"; \
    done \
 && mkdir -p migrations/postgres migrations/sqlite \
 && touch openapi.yaml \
 && cargo build --release --locked --features "$FEATURES" \
 && rm -rf src benches
COPY src src
COPY benches benches
COPY migrations migrations
COPY calendars calendars
COPY templates templates
COPY assets assets
COPY openapi.yaml ./
# The dummy build left newer timestamps; make sure the real sources are rebuilt.
RUN touch src/main.rs src/lib.rs build.rs \
 && cargo build --release --locked --features "$FEATURES" --bin hotline

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/hotline --create-home hotline
COPY --from=build /src/target/release/hotline /usr/local/bin/hotline
USER hotline
WORKDIR /var/lib/hotline
ENV HOTLINE_BIND=0.0.0.0:8080 \
    HOTLINE_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["hotline"]
CMD ["serve"]

# A static Tern binary in an image with nothing else in it.
#
#   docker build -t tern .
#   docker run -p 9092:9092 -p 5672:5672 -p 15672:15672 \
#     -e TERN_DEFAULT_USER=admin -e TERN_DEFAULT_PASS=change-me \
#     -e TERN_ADVERTISED_HOST=localhost -v tern-data:/data tern
#
# The default user guest may only connect from loopback, which a
# container's published ports are not: set another default user (used
# only when /data has never had users). TERN_ADVERTISED_HOST is the host
# Kafka clients are told to reconnect to.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again. The
# replace directive in go.mod points into third_party/.
COPY go.mod go.sum ./
COPY third_party ./third_party
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/tern ./cmd/tern \
 && mkdir -p /out/data

FROM scratch
COPY --from=build /out/tern /tern
# An empty data directory owned by the unprivileged user the broker runs as.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV TERN_DATA_DIR=/data
VOLUME /data
# Kafka, AMQP 0-9-1, and HTTP (web console, admin API, /metrics, health).
EXPOSE 9092 5672 15672
ENTRYPOINT ["/tern"]
CMD ["serve"]

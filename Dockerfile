# Multi-stage build: static binaries on a minimal, non-root base. The image
# runs the server, enrollbotd; enrollbot (ask, chat, kb lint) rides along
# for `docker compose run --entrypoint /enrollbot enrollbot ask …`.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/enrollbotd ./cmd/enrollbot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/enrollbotd /out/enrollbot /
USER nonroot:nonroot
EXPOSE 8080
# The image has no shell: the binary checks its own readiness.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["/enrollbotd", "healthcheck"]
ENTRYPOINT ["/enrollbotd"]
CMD ["serve"]

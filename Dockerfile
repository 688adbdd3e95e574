# Multi-stage build: a static binary on a minimal, non-root base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/enrollbot ./cmd/enrollbot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/enrollbot /enrollbot
USER nonroot:nonroot
EXPOSE 8080
# The image has no shell: the binary checks its own readiness.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["/enrollbot", "healthcheck"]
ENTRYPOINT ["/enrollbot"]
CMD ["serve"]

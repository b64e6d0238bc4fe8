# Build a static hotline binary, then ship it alone on a minimal base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /hotline ./cmd/hotline

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /hotline /hotline
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/hotline"]
CMD ["serve"]

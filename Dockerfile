# Container image: the static bbimport binary on distroless/static (CA
# certificates and /etc/passwd included, no shell, runs as nonroot).
# Build:  make image (docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t bbimport:<version> .);
#         without VERSION the binary says "dev"
# Run:    docker run --rm --user "$(id -u)" -v "$PWD/snyk-logs:/logs" -e SNYK_LOG_PATH=/logs \
#           -e SNYK_TOKEN -e BITBUCKET_APP_CLIENT_ID -e BITBUCKET_APP_CLIENT_SECRET bbimport doctor
# This recipe is not exercised by `make test` (no image pulls there); a test
# checks that the paths below match what `make build` produces.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN make build VERSION=$VERSION

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/bbimport /usr/local/bin/bbimport
ENTRYPOINT ["/usr/local/bin/bbimport"]

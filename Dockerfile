# rcgen in a container, for a server with Docker and no Go: the release
# binary only, from scratch, run as a non-root user. Build it after
# `make dist` (the binaries are its context):
#   docker build -t rcgen .
# Run the wizard on this host, writing into the current directory:
#   docker run --rm -it --user "$(id -u):$(id -g)" -v "$PWD:/work" rcgen
FROM scratch
# Set by docker buildx for each platform (amd64, arm64).
ARG TARGETARCH=amd64
COPY dist/rcgen-linux-${TARGETARCH} /usr/local/bin/rcgen
# nobody-like: override with --user to own the files it writes.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/rcgen"]

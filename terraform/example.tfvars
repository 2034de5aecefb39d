# terraform apply -var-file=example.tfvars (or copy it to terraform.tfvars and edit).

# region = "eu-west-1"

# The zips of `nix build .#bootstrap` instead of those of `cargo xtask dist`:
# dist_dir = "../result"

functions = {
  # dist/bootstrap-rust-x86_64.zip, 128 MB, 3 s, no function URL.
  lambda-libc-echo = {}

  # The same echo on Graviton: dist/bootstrap-rust-arm64.zip.
  lambda-libc-echo-arm64 = {
    architecture = "arm64"
  }

  # The C echo, traced by X-Ray, with a function URL that needs SigV4-signed requests.
  lambda-libc-c-echo = {
    bootstrap = "c"
    tracing   = true
    url       = {}
  }

  # The streaming example behind a function URL that streams the response.
  lambda-libc-stream = {
    bootstrap            = "rust-stream"
    architecture         = "arm64"
    timeout              = 30
    reserved_concurrency = 10
    url = {
      invoke_mode = "RESPONSE_STREAM"
    }
  }
}

# The JSON API example on Graviton: dist/bootstrap-rust-api-arm64.zip, behind a function URL
# (BUFFERED) that needs SigV4-signed requests.
api = {
  architecture = "arm64"
}

log_retention_days = 14

tags = {
  project = "aws-lambda-libc"
  owner   = "you@example.com"
}

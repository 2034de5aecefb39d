{
  description = "A Lambda function on lambda-libc (provided.al2023)";

  inputs.lambda-libc.url = "github:aws-lambda-libc/aws-lambda-libc";

  outputs = { lambda-libc, ... }: {
    # `nix build`: result/bootstrap-<arch>.zip and result/bin/bootstrap for this machine's
    # architecture; `nix build .#x86_64` or `.#arm64` for either.
    packages = builtins.mapAttrs
      (_system: lib:
        let
          bootstrap = arch: lib.buildBootstrap { src = ./.; inherit arch; };
        in
        {
          default = lib.buildBootstrap { src = ./.; };
          x86_64 = bootstrap "x86_64";
          arm64 = bootstrap "arm64";
        })
      lambda-libc.lib;
  };
}

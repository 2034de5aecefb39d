{
  description = "aws-lambda-libc: the smallest AWS Lambda custom runtime (no_std Rust, C and Rust APIs)";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    crane.url = "github:ipetkov/crane";
    fenix = {
      url = "github:nix-community/fenix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = { nixpkgs, crane, fenix, ... }:
    let
      # Built with builtins only, not nixpkgs.lib: the names of the outputs then evaluate
      # without fetching any input (the CI checks them offline, see docs/nix.md).
      perSystem = builtins.listToAttrs (map
        (system: {
          name = system;
          value = import ./nix { inherit system nixpkgs crane fenix; };
        })
        [ "x86_64-linux" "aarch64-linux" ]);
      forEachSystem = f: builtins.mapAttrs (_: f) perSystem;
    in
    {
      packages = forEachSystem (s: s.packages);
      checks = forEachSystem (s: s.checks);
      devShells = forEachSystem (s: { default = s.devShell; });
      apps = forEachSystem (s: { inherit (s) invoke; });
      formatter = forEachSystem (s: s.formatter);

      # Your own function: `lambda-libc.lib.<system>.buildBootstrap { src = ./.; }`
      # (nix/bootstrap.nix), and a project to start from: `nix flake init -t <this flake>#rust`
      # or `#c`, the same files `cargo lambda-libc new` writes (templates/).
      lib = forEachSystem (s: { inherit (s) buildBootstrap; });
      templates = rec {
        default = rust;
        rust = {
          path = ./templates/rust;
          description = "A Lambda function in Rust on lambda-libc, built with lib.buildBootstrap";
        };
        c = {
          path = ./templates/c;
          description = "A Lambda function in C on lambda-libc, built with lib.buildBootstrap";
        };
      };
    };
}

# Everything the flake outputs for one system. The attribute names below are plain Nix
# (no nixpkgs.lib), so that listing them evaluates without fetching any input.
{ system, nixpkgs, crane, fenix }:
let
  pkgs = nixpkgs.legacyPackages.${system};
  inherit (pkgs) lib;

  # Lambda's architectures by their zip names, with what runs their ELFs here: glibc's
  # loader, and for the other architecture qemu-user with a glibc built for it
  # (pkgsCross: built here when no cache has it).
  hostArch = if system == "aarch64-linux" then "arm64" else "x86_64";
  # `qemu` is qemu-user's program, `elf` the architecture's name in the harness's variables.
  arches = {
    x86_64 = { loader = "ld-linux-x86-64.so.2"; qemu = "qemu-x86_64"; elf = "X86_64"; cross = pkgs.pkgsCross.gnu64; };
    arm64 = { loader = "ld-linux-aarch64.so.1"; qemu = "qemu-aarch64"; elf = "AARCH64"; cross = pkgs.pkgsCross.aarch64-multiplatform; };
  };
  otherArch = if hostArch == "arm64" then "x86_64" else "arm64";

  # fenix's stable toolchain (pinned to rust-toolchain.toml's release) with the standard
  # library of both architectures, for whichever `pkgs` crane asks for.
  toolchainFor = p: import ./toolchain.nix {
    inherit (p) lib;
    fenix = fenix.packages.${p.stdenv.hostPlatform.system};
    hostTarget = p.stdenv.hostPlatform.rust.rustcTarget;
    targets = [ "x86_64-unknown-linux-gnu" "aarch64-unknown-linux-gnu" ];
  };
  craneLib = (crane.mkLib pkgs).overrideToolchain toolchainFor;
  zig = pkgs.callPackage ./zig.nix { };

  build = import ./packages.nix { inherit pkgs craneLib zig hostArch; };
  byArch = builtins.mapAttrs (arch: _: build.forArch arch) arches;
  kinds = [ "bootstrap" "bootstrap-c" "bootstrap-stream" "bootstrap-c-stream" "bootstrap-api" "runtime" ];

  # How the tests start the ELFs in the sandbox (tests/tests/support/mod.rs): the host's
  # through glibc's loader, the other architecture's under qemu-user.
  runEnv =
    let other = arches.${otherArch}; in
    {
      LAMBDA_LIBC_LOADER = "${pkgs.glibc}/lib/${arches.${hostArch}.loader}";
      "LAMBDA_LIBC_QEMU_${other.elf}" = "${pkgs.qemu-user}/bin/${other.qemu}";
      "LAMBDA_LIBC_QEMU_${other.elf}_LD_PREFIX" = "${other.cross.glibc}";
    };
in
{
  packages = builtins.listToAttrs
    (map (kind: { name = kind; value = byArch.${hostArch}.${kind}; }) kinds
      ++ builtins.concatMap (arch: map (kind: { name = "${kind}-${arch}"; value = byArch.${arch}.${kind}; }) kinds) (builtins.attrNames arches))
  // {
    default = byArch.${hostArch}.bootstrap;
    inherit (build) dist xtask cli;
  };

  # lib.<system>.buildBootstrap (nix/bootstrap.nix): a user's function, as the packages
  # above are built.
  inherit (build) buildBootstrap;

  checks = import ./checks.nix {
    inherit pkgs craneLib build byArch zig runEnv;
  };

  # `cargo xtask dist --one-toolchain` builds both architectures with the shell's toolchain;
  # `cargo xtask test` starts the bootstraps as the checks do.
  devShell = craneLib.devShell (runEnv // {
    packages = [
      zig
      pkgs.qemu-user
      pkgs.python3
      pkgs.checkov
      (pkgs.opentofu.withPlugins (p: [ p.hashicorp_aws ]))
      pkgs.deadnix
      pkgs.nixpkgs-fmt
    ];
    LAMBDA_LIBC_ZIG = "${zig}/bin/zig";
  });

  # nix run .#invoke -- '{"hello":"world"}' [--event FILE] [--env NAME=VALUE]...
  # The bootstrap always starts through glibc's loader: NixOS has no FHS loader, or (with
  # environment.stub-ld) one that only refuses to run anything.
  invoke = {
    type = "app";
    meta.description = "Run a bootstrap once against the mock Runtime API (xtask invoke)";
    program = "${pkgs.writeShellScript "lambda-libc-invoke" ''
      exec ${build.xtask}/bin/xtask invoke --bootstrap ${build.dist}/bin/bootstrap${lib.optionalString (hostArch == "arm64") "-arm64"} --loader ${runEnv.LAMBDA_LIBC_LOADER} "$@"
    ''}";
  };

  # `nix fmt`: nix/fmt.sh (every .nix file of the tree when given no path).
  formatter = pkgs.writeShellApplication {
    name = "lambda-libc-fmt";
    runtimeInputs = [ pkgs.nixpkgs-fmt ];
    text = builtins.readFile ./fmt.sh;
  };
}

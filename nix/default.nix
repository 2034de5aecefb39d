# Everything the flake outputs for one system. The attribute names below are plain Nix
# (no nixpkgs.lib), so that listing them evaluates without fetching any input.
{ system, nixpkgs, crane, fenix }:
let
  pkgs = nixpkgs.legacyPackages.${system};
  inherit (pkgs) lib;

  # Lambda's architectures, named as in the zip names. Both are built from either host.
  arches = {
    x86_64 = {
      name = "x86_64";
      system = "x86_64-linux";
      rustTarget = "x86_64-unknown-linux-gnu";
      cargoEnv = "X86_64_UNKNOWN_LINUX_GNU";
      # zig's target with AL2023's glibc version: the bootstraps link against 2.34 stubs.
      zigTarget = "x86_64-linux-gnu.2.34";
      interpreter = "/lib64/ld-linux-x86-64.so.2";
      qemu = "qemu-x86_64";
      # The integration tests' name suffix (tests/tests/support/mod.rs).
      testSuffix = "";
    };
    arm64 = {
      name = "arm64";
      system = "aarch64-linux";
      rustTarget = "aarch64-unknown-linux-gnu";
      cargoEnv = "AARCH64_UNKNOWN_LINUX_GNU";
      zigTarget = "aarch64-linux-gnu.2.34";
      interpreter = "/lib/ld-linux-aarch64.so.1";
      qemu = "qemu-aarch64";
      testSuffix = "-arm64";
    };
  };
  hostArch = if system == "aarch64-linux" then "arm64" else "x86_64";

  toolchain = import ./toolchain.nix {
    inherit lib;
    fenix = fenix.packages.${system};
    hostTarget = arches.${hostArch}.rustTarget;
    targets = map (a: a.rustTarget) (builtins.attrValues arches);
  };
  craneLib = (crane.mkLib pkgs).overrideToolchain toolchain;
  zig = pkgs.callPackage ./zig.nix { };

  build = import ./bootstrap.nix { inherit pkgs craneLib zig; };
  byArch = builtins.mapAttrs (_: build.forArch) arches;
  kinds = [ "bootstrap" "bootstrap-c" "bootstrap-stream" "bootstrap-c-stream" "runtime" ];

  # Every zip, and SHA256SUMS: what `cargo xtask dist` writes into dist/.
  dist = pkgs.runCommand "lambda-libc-dist" { } ''
    mkdir -p $out
    ${lib.concatMapStrings (a: lib.concatMapStrings (k: "cp ${byArch.${a}.${k}}/*.zip $out/\n") (lib.remove "runtime" kinds)) (builtins.attrNames arches)}
    cd $out
    LC_ALL=C sha256sum *.zip > SHA256SUMS
  '';

  # Runs an ELF of `arch` with glibc's loader given explicitly (the Nix sandbox and NixOS
  # have no /lib64/ld-linux-x86-64.so.2), under qemu-user when `arch` is not the host's.
  run = arch: elf:
    let
      glibc = nixpkgs.legacyPackages.${arch.system}.glibc;
      qemu = lib.optionalString (arch.system != system) "${pkgs.qemu-user}/bin/${arch.qemu} ";
    in
    pkgs.writeShellScript "run-${baseNameOf elf}-${arch.name}" ''
      exec ${qemu}${glibc}/lib/${baseNameOf arch.interpreter} ${elf} "$@"
    '';
in
{
  packages = builtins.listToAttrs
    (map (kind: { name = kind; value = byArch.${hostArch}.${kind}; }) kinds
      ++ builtins.concatMap (arch: map (kind: { name = "${kind}-${arch}"; value = byArch.${arch}.${kind}; }) kinds) (builtins.attrNames arches))
  // {
    default = byArch.${hostArch}.bootstrap;
    inherit dist;
    inherit (build) xtask;
  };

  checks = import ./checks.nix {
    inherit pkgs craneLib build byArch arches dist run;
  };

  devShell = craneLib.devShell {
    packages = [
      zig
      pkgs.qemu-user
      pkgs.python3
      pkgs.checkov
      (pkgs.opentofu.withPlugins (p: [ p.hashicorp_aws ]))
      pkgs.deadnix
      pkgs.nixpkgs-fmt
    ];
  };

  # nix run .#invoke -- '{"hello":"world"}' [--bootstrap PATH] [--env NAME=VALUE]...
  invoke =
    let
      echo = "${byArch.${hostArch}.bootstrap}/bin/bootstrap";
      arch = arches.${hostArch};
    in
    {
      type = "app";
      meta.description = "Run a bootstrap once against the mock Runtime API (xtask invoke)";
      program = "${pkgs.writeShellScript "lambda-libc-invoke" ''
        # Run the ELF itself where its FHS loader exists (sizes printed are then its own).
        bootstrap=${echo}
        [ -e ${arch.interpreter} ] || bootstrap=${run arch echo}
        exec ${build.xtask}/bin/xtask invoke --bootstrap "$bootstrap" "$@"
      ''}";
    };

  formatter = pkgs.nixpkgs-fmt;
}

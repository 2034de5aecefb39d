# The packages: every build step is a command of the cargo path, xtask's (`dist`) or the
# one users run (`cargo lambda-libc build`, through `buildBootstrap`); Nix provides the
# inputs (toolchain, zig, vendored crates) and the environment. `cargo xtask rehearse` runs these build phases as the sandbox would and
# checks that this file still holds them word for word.
{ pkgs, craneLib, zig, hostArch }:
let
  inherit (pkgs) lib;
  inherit ((lib.importTOML ../Cargo.toml).workspace.package) version;

  # Every tracked file less what nothing in the sandbox reads (nix/source.toml).
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.difference ../. (lib.fileset.unions
      (map (path: lib.fileset.maybeMissing (../. + "/${path}")) (lib.importTOML ./source.toml).unread));
  };
  cargoVendorDir = craneLib.vendorCargoDeps { inherit src; };

  # The host workspace in cargo's dev profile, as `cargo xtask test` builds it.
  host = {
    inherit src version cargoVendorDir;
    pname = "lambda-libc";
    strictDeps = true;
    CARGO_PROFILE = "dev";
    cargoExtraArgs = "--locked --workspace";
  };
  hostDeps = craneLib.buildDepsOnly host;

  # The build tools of every derivation below, in cargo's dev profile and one cargo build
  # (they share their dependencies): xtask, and `cargo lambda-libc`, the command users build
  # their functions with (`buildBootstrap`'s).
  tools = craneLib.mkCargoDerivation (host // {
    pname = "lambda-libc-tools";
    cargoArtifacts = hostDeps;
    doInstallCargoArtifacts = false;
    buildPhaseCargoCommand = "cargo build --profile dev --locked -p xtask -p cargo-lambda-libc";
    installPhaseCommand = "install -D -m 755 -t $out/bin target/debug/xtask target/debug/cargo-lambda-libc";
    # The source `cargo lambda-libc new` points a project at: the flake's, not the build
    # directory's copy of it.
    LAMBDA_LIBC_SOURCE = "${src}";
  });
  xtask = lib.addMetaAttrs { mainProgram = "xtask"; } tools;
  cli = lib.addMetaAttrs { mainProgram = "cargo-lambda-libc"; } tools;

  # `cargo xtask dist` with the flake's toolchain for both architectures: the zips,
  # SHA256SUMS, bin/ (every ELF as shipped) and runtime-<arch>/ (the C API).
  dist = craneLib.mkCargoDerivation {
    inherit src version cargoVendorDir;
    pname = "lambda-libc-dist";
    strictDeps = true;
    cargoArtifacts = null;
    doInstallCargoArtifacts = false;
    nativeBuildInputs = [ tools ];
    LAMBDA_LIBC_ZIG = "${zig}/bin/zig";
    buildPhaseCargoCommand = "xtask dist --one-toolchain --out $out";
    installPhaseCommand = "";
    # The bytes the linker and xtask wrote: no strip, no patchelf, no rewritten store paths
    # (the verifier rejects any /nix/store bytes instead).
    dontFixup = true;
  };

  buildBootstrap = import ./bootstrap.nix {
    inherit lib craneLib tools zig hostArch;
    lambdaLibc = src;
    lambdaLibcVendorDir = cargoVendorDir;
  };

  # This repository's bootstraps, each built as a user's function is (`buildBootstrap`):
  # the zip `dist` writes for it, and how to build it.
  bootstraps = arch: {
    bootstrap = { zip = "bootstrap-rust-${arch}.zip"; package = "lambda-libc-example"; bin = "bootstrap"; };
    bootstrap-c = { zip = "bootstrap-c-${arch}.zip"; cSources = [ "example-c/function.c" ]; };
    bootstrap-stream = { zip = "bootstrap-rust-stream-${arch}.zip"; package = "lambda-libc-example"; bin = "bootstrap-stream"; };
    bootstrap-c-stream = { zip = "bootstrap-c-stream-${arch}.zip"; cSources = [ "example-c/stream.c" ]; cStream = true; };
    bootstrap-api = { zip = "bootstrap-rust-api-${arch}.zip"; package = "lambda-libc-example"; bin = "bootstrap-api"; features = [ "api" ]; };
  };
in
{
  inherit src cargoVendorDir host hostDeps xtask dist cli buildBootstrap bootstraps;

  # The packages of Lambda's architecture `arch` (`x86_64`, `arm64`): its bootstraps, and
  # the C API.
  forArch = arch:
    builtins.mapAttrs (_: b: buildBootstrap (builtins.removeAttrs b [ "zip" ] // { inherit src arch; })) (bootstraps arch)
    // {
      runtime = pkgs.runCommand "lambda-libc-runtime-${arch}" { dontFixup = true; } "cp -r ${dist}/runtime-${arch} $out";
    };
}

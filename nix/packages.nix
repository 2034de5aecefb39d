# The packages: every build step is an xtask command (xtask/src/dist.rs), the same one the
# cargo path runs; Nix provides the inputs (toolchain, zig, vendored crates) and the
# environment. `cargo xtask rehearse` runs these build phases as the sandbox would and
# checks that this file still holds them word for word.
{ pkgs, craneLib, zig }:
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

  # xtask, the build tool of every derivation below, in cargo's dev profile.
  xtask = craneLib.mkCargoDerivation (host // {
    pname = "xtask";
    cargoArtifacts = hostDeps;
    doInstallCargoArtifacts = false;
    buildPhaseCargoCommand = "cargo build --profile dev --locked -p xtask";
    installPhaseCommand = "install -D -m 755 target/debug/xtask $out/bin/xtask";
    meta.mainProgram = "xtask";
  });

  # `cargo xtask dist` with the flake's toolchain for both architectures: the zips,
  # SHA256SUMS, bin/ (every ELF as shipped) and runtime-<arch>/ (the C API).
  dist = craneLib.mkCargoDerivation {
    inherit src version cargoVendorDir;
    pname = "lambda-libc-dist";
    strictDeps = true;
    cargoArtifacts = null;
    doInstallCargoArtifacts = false;
    nativeBuildInputs = [ xtask ];
    LAMBDA_LIBC_ZIG = "${zig}/bin/zig";
    buildPhaseCargoCommand = "xtask dist --one-toolchain --out $out";
    installPhaseCommand = "";
    # The bytes the linker and xtask wrote: no strip, no patchelf, no rewritten store paths
    # (the verifier rejects any /nix/store bytes instead).
    dontFixup = true;
  };

  # One deployment package from `dist`: `<zip>.zip` and `bin/bootstrap`, the ELF inside it.
  bootstrap = zip: elf: pkgs.runCommand zip { dontFixup = true; } ''
    mkdir -p $out/bin
    cp ${dist}/${zip}.zip $out/
    cp ${dist}/bin/${elf} $out/bin/bootstrap
  '';
in
{
  inherit src cargoVendorDir host hostDeps xtask dist;

  # The packages of Lambda's architecture `arch` (`x86_64`, `arm64`).
  forArch = arch:
    let suffix = if arch == "arm64" then "-arm64" else ""; in
    {
      bootstrap = bootstrap "bootstrap-rust-${arch}" "bootstrap${suffix}";
      bootstrap-c = bootstrap "bootstrap-c-${arch}" "bootstrap-c${suffix}";
      bootstrap-stream = bootstrap "bootstrap-rust-stream-${arch}" "bootstrap-stream${suffix}";
      bootstrap-c-stream = bootstrap "bootstrap-c-stream-${arch}" "bootstrap-c-stream${suffix}";
      runtime = pkgs.runCommand "lambda-libc-runtime-${arch}" { dontFixup = true; } "cp -r ${dist}/runtime-${arch} $out";
    };
}

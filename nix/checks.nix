# `nix flake check`: what `cargo xtask test` checks, plus the Nix and Terraform linters.
{ pkgs, craneLib, build, byArch, arches, dist, run }:
let
  inherit (pkgs) lib;

  # Each architecture's ELFs by the names the integration tests look for (`bootstrap`,
  # `bootstrap-arm64`, `fixture-arm64`, ...), each run through `run` (loader, qemu-user).
  binDir = pkgs.linkFarm "lambda-libc-bin-dir" (lib.concatMap
    (arch: lib.mapAttrsToList
      (name: elf: { name = name + arch.testSuffix; path = run arch elf; })
      byArch.${arch.name}.elves)
    (builtins.attrValues arches));

  nixFiles = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.fileFilter (file: file.hasExt "nix") ../.;
  };

  # terraform/ is written on another branch: the check comes with it.
  terraform =
    if builtins.pathExists ../terraform then {
      tofu-validate =
        let
          tofu = pkgs.opentofu.withPlugins (p: [ p.hashicorp_aws ]);
        in
        pkgs.runCommand "lambda-libc-tofu-validate" { nativeBuildInputs = [ tofu ]; } ''
          cp -r ${lib.cleanSource ../terraform} terraform
          chmod -R u+w terraform
          cd terraform
          # The lock's checksums are those of registry downloads, not of nixpkgs' providers.
          rm -f .terraform.lock.hcl
          export HOME=$TMPDIR TF_IN_AUTOMATION=1
          tofu init -backend=false -input=false
          tofu validate
          touch $out
        '';
    } else { };
in
{
  # The integration suite (and every unit test) against the built bootstraps, as step 4 of
  # `cargo xtask test`; the mock listens on loopback inside the sandbox.
  integration = craneLib.cargoTest (build.host // {
    cargoArtifacts = build.hostDeps;
    doInstallCargoArtifacts = false;
    LAMBDA_LIBC_BIN_DIR = "${binDir}";
    LAMBDA_LIBC_DIST_DIR = "${dist}";
  });

  clippy = craneLib.cargoClippy (build.host // {
    cargoArtifacts = build.hostDeps;
    doInstallCargoArtifacts = false;
    cargoClippyExtraArgs = "--all-targets -- --deny warnings";
  });

  rustfmt = craneLib.cargoFmt {
    inherit (build.host) src pname version;
    cargoExtraArgs = "--all";
  };

  # The ELF verifier on every zip and every fixture.
  verify = pkgs.runCommand "lambda-libc-verify" { nativeBuildInputs = [ build.xtask ]; } ''
    xtask verify ${dist}/*.zip ${lib.concatMapStringsSep " " (arch: byArch.${arch}.elves.fixture) (builtins.attrNames arches)}
    touch $out
  '';

  deadnix = pkgs.runCommand "lambda-libc-deadnix" { nativeBuildInputs = [ pkgs.deadnix ]; } ''
    deadnix --fail ${nixFiles}
    touch $out
  '';

  nixpkgs-fmt = pkgs.runCommand "lambda-libc-nixpkgs-fmt" { nativeBuildInputs = [ pkgs.nixpkgs-fmt ]; } ''
    nixpkgs-fmt --check ${nixFiles}
    touch $out
  '';
} // terraform

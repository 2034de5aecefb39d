# `nix flake check`: the steps of `cargo xtask test` that can run in the sandbox, each as
# the same xtask command (`--step`), plus the Nix and Terraform linters. Not here: `repro`
# (Nix itself rebuilds: `nix build --rebuild`), `rehearse` (it imitates this sandbox) and
# `fuzz` (nightly).
{ pkgs, craneLib, build, byArch, zig, runEnv }:
let
  inherit (pkgs) lib;

  # A check that runs `xtask test --step …` on the host workspace (dev profile), with `env`.
  step = name: command: env: craneLib.mkCargoDerivation (build.host // env // {
    pname = "lambda-libc-${name}";
    cargoArtifacts = build.hostDeps;
    doInstallCargoArtifacts = false;
    nativeBuildInputs = [ build.xtask ];
    buildPhaseCargoCommand = command;
  });

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
  # Every unit and integration test against `dist` (both architectures' ELFs, raw), and the
  # library's tests with the C API.
  integration = step "integration" "xtask test --step tests --dist ${build.dist}" (runEnv // {
    # The tests skip, each with its reason, what cannot run here (xtask lists them).
    LAMBDA_LIBC_SANDBOX = "1";
    # The verifier's tests link small programs with the pinned zig.
    LAMBDA_LIBC_ZIG = "${zig}/bin/zig";
  });
  clippy = step "clippy" "xtask test --step clippy" { };
  rustfmt = step "rustfmt" "xtask test --step fmt" { };

  # The ELF verifier on every zip and ELF of `dist` (which `dist` already ran once).
  verify = pkgs.runCommand "lambda-libc-verify" { nativeBuildInputs = [ build.xtask ]; } ''
    xtask verify ${build.dist}/*.zip ${build.dist}/bin/*
    touch $out
  '';

  # Every bootstrap package (built by `buildBootstrap`, the users' route) holds the very
  # zip `dist` (xtask's route) wrote for it: the two routes share one implementation.
  bootstraps = pkgs.runCommand "lambda-libc-bootstraps" { } ''
    ${lib.concatStrings (lib.mapAttrsToList (arch: packages:
      lib.concatStrings (lib.mapAttrsToList (kind: b: ''
        cmp ${packages.${kind}}/bootstrap-${arch}.zip ${build.dist}/${b.zip}
      '') (build.bootstraps arch))) byArch)}
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

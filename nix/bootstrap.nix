# The bootstrap builder: the same commands as the cargo path (xtask/src/dist.rs), in Nix.
#
# - xtask, built with crane for the host; its `zip` writes the deployment zips (dist's bytes)
#   and `verify` is the ELF verifier.
# - Per architecture:
#   - the Rust ELFs: `cargo build --release --target <triple> -p lambda-libc-example
#     -p lambda-libc-fixtures` with zig as the linker (link flags from example-rust/build.rs);
#   - `runtime`: `cargo rustc -p lambda-libc --features c-api --crate-type staticlib`, the
#     header and a pkg-config file, for C users;
#   - the C ELFs: `make -C example-c` with zig as CC (the Makefile holds the C flags);
#   - one package per bootstrap: `<zip name>.zip` and `bin/bootstrap` (the ELF inside it).
{ pkgs, craneLib, zig }:
let
  inherit (pkgs) lib;

  inherit ((lib.importTOML ../Cargo.toml).workspace.package) version;
  cargoSrc = lib.fileset.toSource {
    root = ../.;
    # runtime/link: the linker script example-rust/build.rs includes.
    fileset = lib.fileset.unions [ (craneLib.fileset.commonCargoSources ../.) ../runtime/link ];
  };
  cargoVendorDir = craneLib.vendorCargoDeps { src = cargoSrc; };

  # The output must be the bytes the linker wrote: no strip, no patchelf, no rewriting of
  # store paths (the verifier rejects any /nix/store bytes instead).
  untouched = {
    dontFixup = true;
    doNotRemoveReferencesToRustToolchain = true;
    doNotRemoveReferencesToVendorDir = true;
  };

  # The host workspace in cargo's dev profile, as `cargo xtask test` builds it (xtask, clippy,
  # tests; zopfli is optimised there by Cargo.toml).
  host = {
    src = cargoSrc;
    pname = "lambda-libc";
    inherit version cargoVendorDir;
    strictDeps = true;
    CARGO_PROFILE = "dev";
    cargoExtraArgs = "--locked --workspace";
  };
  hostDeps = craneLib.buildDepsOnly host;

  xtask = craneLib.buildPackage (host // {
    pname = "xtask";
    cargoArtifacts = hostDeps;
    cargoExtraArgs = "--locked -p xtask";
    doCheck = false;
    meta.mainProgram = "xtask";
  });

  forArch = arch:
    let
      cc = zig.cc arch;
      release = "target/${arch.rustTarget}/release";

      rust = craneLib.buildPackage (untouched // {
        pname = "lambda-libc-rust-${arch.name}";
        inherit version cargoVendorDir;
        src = cargoSrc;
        strictDeps = true;
        # libc is the only dependency: no separate dependency derivation.
        cargoArtifacts = null;
        # Always --target, so the link flags never reach build scripts (as dist does).
        cargoExtraArgs = "--locked --target ${arch.rustTarget} -p lambda-libc-example -p lambda-libc-fixtures";
        "CARGO_TARGET_${arch.cargoEnv}_LINKER" = "${cc}";
        doCheck = false;
        doNotPostBuildInstallCargoBinaries = true;
        installPhaseCommand = ''
          mkdir -p $out/bin
          find ${release} -maxdepth 1 -type f -perm -u+x -exec cp {} $out/bin/ \;
        '';
      });

      # The static library with `features`: `c-api` (the `runtime` package), or
      # `c-api-stream` for programs that stream (as `cargo xtask dist` builds them).
      staticlib = features: craneLib.mkCargoDerivation (untouched // {
        pname = "lambda-libc-${features}-${arch.name}";
        inherit version cargoVendorDir;
        src = lib.fileset.toSource {
          root = ../.;
          fileset = lib.fileset.unions [ (craneLib.fileset.commonCargoSources ../.) ../runtime/include ];
        };
        strictDeps = true;
        cargoArtifacts = null;
        doInstallCargoArtifacts = false;
        buildPhaseCargoCommand = ''
          cargoWithProfile rustc --locked -p lambda-libc --target ${arch.rustTarget} --features ${features} --crate-type staticlib
        '';
        installPhaseCommand = ''
          install -Dm644 ${release}/liblambda_libc.a $out/lib/liblambda_libc.a
          install -Dm644 -t $out/include runtime/include/*.h
          mkdir -p $out/lib/pkgconfig
          cat > $out/lib/pkgconfig/lambda-libc.pc <<EOF
          prefix=$out
          libdir=\''${prefix}/lib
          includedir=\''${prefix}/include

          Name: lambda-libc
          Description: The smallest AWS Lambda custom runtime: a no_std, allocation-free Runtime API client (${arch.name}, static)
          Version: ${version}
          Libs: -L\''${libdir} -llambda_libc
          Cflags: -I\''${includedir}
          EOF
        '';
      });

      runtime = staticlib "c-api";
      runtimeStream = staticlib "c-api-stream";

      # `make -C example-c SRC=<src>`: the C program `src` (from the repository root) as
      # `elf`, linked against `library` (`runtime` or `runtimeStream`).
      c = src: elf: library: pkgs.stdenvNoCC.mkDerivation (untouched // {
        pname = "lambda-libc-c-${elf}-${arch.name}";
        inherit version;
        src = lib.fileset.toSource {
          root = ../.;
          fileset = lib.fileset.unions [ ../example-c ../runtime/include ../runtime/link ../tests/fixtures/fixture.c ];
        };
        dontConfigure = true;
        buildPhase = ''
          runHook preBuild
          make -C example-c CC=${cc} LAMBDA_LIBC=${library}/lib/liblambda_libc.a SRC=$PWD/${src} OUT=$PWD/${elf}
          runHook postBuild
        '';
        installPhase = ''
          runHook preInstall
          install -Dm755 ${elf} $out/bin/${elf}
          runHook postInstall
        '';
      });
      cEcho = c "example-c/function.c" "bootstrap-c" runtime;
      cStream = c "example-c/stream.c" "bootstrap-c-stream" runtimeStream;
      cFixture = c "tests/fixtures/fixture.c" "fixture-c" runtimeStream;

      # A deployment package: `<zip>.zip` (written by `xtask zip`) and `bin/bootstrap`.
      zipped = zip: elf: pkgs.runCommand zip { nativeBuildInputs = [ xtask ]; } ''
        mkdir -p $out/bin
        xtask sstrip ${elf} $out/bin/bootstrap
        chmod 755 $out/bin/bootstrap
        xtask zip ${elf} $out/${zip}.zip
      '';
    in
    {
      inherit runtime;
      bootstrap = zipped "bootstrap-rust-${arch.name}" "${rust}/bin/bootstrap";
      bootstrap-stream = zipped "bootstrap-rust-stream-${arch.name}" "${rust}/bin/bootstrap-stream";
      bootstrap-c = zipped "bootstrap-c-${arch.name}" "${cEcho}/bin/bootstrap-c";
      bootstrap-c-stream = zipped "bootstrap-c-stream-${arch.name}" "${cStream}/bin/bootstrap-c-stream";
      # Every ELF by the name the integration tests look for (tests/tests/support/mod.rs).
      elves = {
        bootstrap = "${rust}/bin/bootstrap";
        bootstrap-stream = "${rust}/bin/bootstrap-stream";
        bootstrap-c = "${cEcho}/bin/bootstrap-c";
        bootstrap-c-stream = "${cStream}/bin/bootstrap-c-stream";
        fixture = "${rust}/bin/fixture";
        fixture-c = "${cFixture}/bin/fixture-c";
      };
    };
in
{
  inherit xtask hostDeps host forArch;
}

# `lib.<system>.buildBootstrap`: a user's function, built into a deployment package by
# `cargo lambda-libc build` (cli/), the very command the cargo path runs. Nix provides the
# inputs (the toolchain with both architectures' standard libraries, the pinned zig, the
# vendored crates) and the environment; the command decides every flag and zip byte.
#
#   buildBootstrap {
#     src;               # a cargo project with a `lambda_libc::main!` binary, or C sources
#     arch ? <host>;     # "x86_64" or "arm64"
#     package ? null;    # the cargo package, in a workspace (`-p`)
#     bin ? null;        # the binary, when the package has several (`--bin`)
#     features ? [ ];    # cargo features to build it with (`--features`)
#     cSources ? null;   # C files (paths relative to src): a C function instead
#     cStream ? false;   # with cSources: the C API with streaming (lambda_stream_*)
#   }
#
# returns $out/bootstrap-<arch>.zip and $out/bin/bootstrap, the ELF inside it.
{ lib, craneLib, tools, zig, hostArch, lambdaLibc, lambdaLibcVendorDir }:
{ src, arch ? hostArch, package ? null, bin ? null, features ? [ ], cSources ? null, cStream ? false }:
let
  c = cSources != null;
  args = [ "--arch" arch "--one-toolchain" "--out" "lambda" ]
    ++ lib.optionals (package != null) [ "-p" package ]
    ++ lib.optionals (bin != null) [ "--bin" bin ]
    ++ lib.optionals (features != [ ]) [ "--features" (builtins.concatStringsSep "," features) ]
    # A C function links lambda-libc's static library, built from this flake's source with
    # this flake's vendored crates.
    ++ lib.optionals c ([ "--lambda-libc" "${lambdaLibc}" ] ++ lib.optional cStream "--stream" ++ [ "--c" ] ++ cSources);
in
craneLib.mkCargoDerivation {
  inherit src;
  pname = "bootstrap-${arch}";
  version = "0";
  strictDeps = true;
  cargoVendorDir = if c then lambdaLibcVendorDir else craneLib.vendorCargoDeps { inherit src; };
  cargoArtifacts = null;
  doInstallCargoArtifacts = false;
  nativeBuildInputs = [ tools ];
  LAMBDA_LIBC_ZIG = "${zig}/bin/zig";
  buildPhaseCargoCommand = "cargo-lambda-libc build ${lib.escapeShellArgs args}";
  installPhaseCommand = ''
    install -D -m 644 lambda/bootstrap-${arch}.zip $out/bootstrap-${arch}.zip
    install -D -m 755 lambda/${arch}/bootstrap $out/bin/bootstrap
  '';
  # The bytes the linker and the command wrote: no strip, no patchelf.
  dontFixup = true;
}

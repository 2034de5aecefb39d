# zig 0.17.1, the very build the cargo path uses: the PyPI wheel `ziglang==0.17.1`
# (xtask/src/zig.rs), whose zig is the official statically linked release binary. nixpkgs
# 26.05 has no zig 0.17 (see docs/nix.md), and bootstrap bytes depend on the linker.
#
# `zig.cc arch` is the linker of the Rust bootstraps and the CC of example-c/Makefile:
# `zig cc -target <arch>-linux-gnu.2.34`, as the wrapper xtask writes.
{ lib, stdenvNoCC, fetchurl, unzip, writeShellScript }:
let
  version = "0.17.1";
  wheels = {
    x86_64-linux = {
      url = "https://files.pythonhosted.org/packages/59/e3/2a34676370a11c36b7cd04ffb2439c1089c0530cf4b01408c77cf7f8d9c3/ziglang-0.17.1-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl";
      hash = "sha256-6mzF2HsDPPCu37yPlUmpCMrmxQrDHxaYGI+kinRSS1Q=";
    };
    aarch64-linux = {
      url = "https://files.pythonhosted.org/packages/91/72/bb7c4f098ba3e535fa2ebefd9f26327ba63fb0672562959255cb5dd37aff/ziglang-0.17.1-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl";
      hash = "sha256-t8XwL8zUD4m5me4WofXdztVuYYI3D4r/5JS8+KKM8H4=";
    };
  };
  zig = stdenvNoCC.mkDerivation {
    pname = "zig";
    inherit version;
    src = fetchurl wheels.${stdenvNoCC.hostPlatform.system};
    nativeBuildInputs = [ unzip ];
    unpackPhase = ''
      unzip -q $src 'ziglang/*'
    '';
    installPhase = ''
      mkdir -p $out/bin $out/lib
      mv ziglang $out/lib/ziglang
      chmod +x $out/lib/ziglang/zig
      ln -s $out/lib/ziglang/zig $out/bin/zig
    '';
    # The release binary as published: no patchelf, no strip.
    dontFixup = true;
    doInstallCheck = true;
    installCheckPhase = ''
      [ "$($out/bin/zig version)" = ${version} ]
    '';
    passthru.cc = arch: writeShellScript "zig-cc-${arch.zigTarget}" ''
      # zig needs writable caches; in the sandbox only $TMPDIR is.
      export ZIG_GLOBAL_CACHE_DIR="''${ZIG_GLOBAL_CACHE_DIR:-''${TMPDIR:-/tmp}/zig-global-cache}"
      export ZIG_LOCAL_CACHE_DIR="''${ZIG_LOCAL_CACHE_DIR:-''${TMPDIR:-/tmp}/zig-local-cache}"
      # The flags of nixpkgs' gcc wrapper are not for zig.
      unset NIX_CFLAGS_COMPILE NIX_LDFLAGS
      exec ${zig}/bin/zig cc -target ${arch.zigTarget} "$@"
    '';
    meta = {
      description = "zig ${version} from the PyPI wheel ziglang==${version}";
      license = lib.licenses.mit;
      platforms = builtins.attrNames wheels;
    };
  };
in
zig

# zig 0.17.1, the very build the cargo path uses: the PyPI wheel `ziglang==0.17.1`
# (cli/src/zig.rs), whose zig is the official statically linked release binary. nixpkgs
# 26.05 has no zig 0.17 (see docs/nix.md), and bootstrap bytes depend on the linker.
# xtask finds it through LAMBDA_LIBC_ZIG and writes its own `zig cc` wrappers.
{ lib, stdenvNoCC, fetchurl, unzip }:
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
    meta = {
      description = "zig ${version} from the PyPI wheel ziglang==${version}";
      license = lib.licenses.mit;
      platforms = builtins.attrNames wheels;
    };
  };
in
zig

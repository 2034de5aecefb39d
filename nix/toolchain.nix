# The Rust toolchain: fenix's stable channel, which flake.lock pins to the release named in
# rust-toolchain.toml (1.95.0, the same artifacts rustup installs), with the standard
# library of every Lambda architecture, so either host builds both.
{ lib, fenix, hostTarget, targets }:
let
  inherit (fenix) stable;
  channel = (lib.importTOML ../rust-toolchain.toml).toolchain.channel;
  rustc = stable.manifest.pkg.rustc.target.${hostTarget}.url;
in
lib.throwIfNot (lib.hasInfix "/rustc-${channel}-" rustc)
  "fenix's stable rustc is ${rustc}, not ${channel} (rust-toolchain.toml): lock a fenix revision whose data/stable.json is ${channel}"
  (fenix.combine ([ stable.cargo stable.rustc stable.clippy stable.rustfmt ]
  ++ map (target: fenix.targets.${target}.stable.rust-std) targets))

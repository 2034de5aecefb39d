# `nix fmt [PATH...]`: nixpkgs-fmt on PATH..., or on the whole tree when given none. Since
# Nix 2.25 `nix fmt` passes no path of its own, and nixpkgs-fmt without one formats stdin.
if [ "$#" -eq 0 ]; then
  set -- .
fi
exec nixpkgs-fmt "$@"

# A tiny closure for the loopback binary cache, built with the host's /bin/sh (no nixpkgs).
# app -> tool -> lib -> data, and app -> data: four store paths that reference each other.
# `salt` gives fresh store paths (and so a cold build) when a caller needs them.
{ system ? builtins.currentSystem, salt ? "" }:
let
  mk = name: script: derivation {
    inherit name system salt;
    builder = "/bin/sh";
    args = [ "-c" script ];
  };
  data = mk "flywheel-data" ''
    i=0; while [ $i -lt 20000 ]; do echo "flywheel fixture line $i"; i=$((i+1)); done > $out
  '';
  lib = mk "flywheel-lib" ''echo "data ${data}" > $out'';
  tool = mk "flywheel-tool" ''echo "lib ${lib}" > $out'';
  app = mk "flywheel-app" ''echo "tool ${tool} data ${data}" > $out'';
in { inherit data lib tool app; }

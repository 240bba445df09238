{
  description = "flywheel-harness: proves that a self-hosted Nix CI fleet keeps its contract";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # Runtime dependencies, as in pyproject.toml `dependencies` (and the grpc extra).
      runtimeDeps = ps: with ps; [
        pyyaml
        ruamel-yaml
        httpx
        psutil
        jsonschema
        tree-sitter
        tree-sitter-grammars.tree-sitter-bash
        tree-sitter-grammars.tree-sitter-nix
        tree-sitter-grammars.tree-sitter-hcl
        rapidfuzz
        pynacl
        pytest
        grpcio
      ];
      testDeps = ps: with ps; [ pytest-xdist nox ];

      # Tools the live suites call: Nix itself, Bazel, nginx with WebDAV, git.
      liveTools = pkgs: with pkgs; [
        nix
        bazel
        (nginx.override { modules = [ nginxModules.dav ]; })
        git
      ];

      # The one source of the version is harness/__init__.py (as for pyproject.toml).
      version = builtins.head (builtins.match ''.*__version__ = "([^"]+)".*''
        (builtins.readFile ./harness/__init__.py));

      harnessFor = pkgs: pkgs.python3Packages.buildPythonApplication {
        pname = "flywheel-harness";
        inherit version;
        pyproject = true;
        src = ./.;
        build-system = [ pkgs.python3Packages.hatchling ];
        dependencies = runtimeDeps pkgs.python3Packages;
        # The tests need real Nix, Bazel and nginx: they run in `checks`, not in the build.
        doCheck = false;
        pythonImportsCheck = [ "harness" ];
        meta.mainProgram = "flywheel-harness";
      };
    in
    {
      packages = forAllSystems (pkgs: {
        default = harnessFor pkgs;
        flywheel-harness = harnessFor pkgs;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${harnessFor pkgs}/bin/flywheel-harness";
        };
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            (pkgs.python3.withPackages (ps: runtimeDeps ps ++ testDeps ps ++ [ ps.hatchling ]))
            pkgs.ruff
            pkgs.mypy
            pkgs.actionlint
          ] ++ liveTools pkgs;
          shellHook = ''
            export PYTHONPATH="$PWD''${PYTHONPATH:+:$PYTHONPATH}"
          '';
        };
      });

      checks = forAllSystems (pkgs: {
        # The project's own tests. Inside the build sandbox there is no Nix daemon, Bazel
        # cache or network, so the tests that need them skip (CI is unset here).
        tests = pkgs.runCommand "flywheel-harness-tests"
          {
            nativeBuildInputs = [
              (pkgs.python3.withPackages (ps: runtimeDeps ps ++ testDeps ps))
              pkgs.git
            ];
          } ''
          cp -r ${self} source
          chmod -R u+w source
          cd source
          export HOME="$TMPDIR"
          python -m pytest tests -p no:cacheprovider -n "$NIX_BUILD_CORES" -q
          touch "$out"
        '';
        package = harnessFor pkgs;
      });
    };
}

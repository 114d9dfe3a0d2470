package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hushbuild/hushbuild/internal/textdiff"
	"github.com/hushbuild/hushbuild/migrate"
)

func init() { register(newMigrateCommand) }

const migrateHelp = `
Finds the Dockerfiles under DIR (default .) and the files that build them,
and turns every secret build-arg into a build secret; other build-args stay:

  compose files      build.args entry  -> build.secrets, plus a top-level
                     secrets: NAME: environment: VAR
  bake (HCL, JSON)   args entry        -> secret = ["id=NAME,env=VAR"]
  GitHub Actions     docker/build-push-action build-args line -> secrets
                     (a workflow expression) or secret-envs (env.VAR);
                     run: lines as below, an expression going to env:
  Makefiles, shell scripts, GitLab CI and other YAML script lines
                     docker build|buildx build --build-arg NAME[=$VAR]
                     -> --secret id=NAME,env=VAR

A build-arg is a secret when its name is one (the rules of check), or when
the engine removes that ARG from the Dockerfile the invocation builds. Each
Dockerfile the engine has something to do for gets the line
` + migrate.SyntaxLine + `
(or, with --rewrite, the rewrite of 'hushbuild rewrite').

Files are edited in place, byte range by byte range: formatting and
comments stay. A value written in a file is a leak: it is named (never
printed) and not copied anywhere; the secret then reads the environment.
What cannot be migrated safely is listed on stderr for a person to do.

Without -w the changes are printed as a unified diff.

Exit status: 0 nothing to change and nothing left to do; 1 changes to make
(without -w), or notes left on stderr; 2 usage, read or parse errors (the
files that parsed are still migrated).`

func newMigrateCommand(s stdio) *cobra.Command {
	var cf configFlags
	cmd := &cobra.Command{
		Use:   "migrate [flags] [DIR]",
		Short: "turn the secret build-args of compose, bake, CI files and scripts into build secrets",
		Long:  migrateHelp,
	}
	write := cmd.Flags().BoolP("write", "w", false, "write the changes to the files instead of printing a diff")
	rewriteFlag := cmd.Flags().Bool("rewrite", false, "rewrite the Dockerfiles instead of adding the # syntax= line")
	frontend := cmd.Flags().String("frontend", migrate.FrontendImage, "the frontend image the # syntax= line names (a mirror of it)")
	cf.register(cmd.Flags())
	cmd.RunE = runWith(func(ctx context.Context, cmd *cobra.Command, dirs []string) int {
		return runMigrate(cmd, dirs, s, &cf, *write, *rewriteFlag, *frontend)
	})
	return cmd
}

func runMigrate(cmd *cobra.Command, dirs []string, s stdio, cf *configFlags, write, rewriteDockerfiles bool, frontend string) int {
	if len(dirs) > 1 {
		return usageErrorf(cmd, s, "want at most one DIR, got %d", len(dirs))
	}
	dir := "."
	if len(dirs) == 1 {
		dir = dirs[0]
	}
	cfg, err := cf.build()
	if err != nil {
		return usageErrorf(cmd, s, "%v", err)
	}
	res, err := migrate.Dir(dir, migrate.Options{Config: cfg, Rewrite: rewriteDockerfiles, Frontend: frontend})
	if err != nil {
		fmt.Fprintf(s.err, "hushbuild migrate: %v\n", err)
		return exitUsage
	}
	code := exitOK
	for _, f := range res.Files {
		if write {
			if err := writeFileKeepMode(f.Path, f.New); err != nil {
				fmt.Fprintf(s.err, "hushbuild migrate: %v\n", err)
				res.Errors = append(res.Errors, err)
				continue
			}
			fmt.Fprintf(s.err, "migrated %s\n", f.Path)
			continue
		}
		if err := textdiff.Unified(s.out, "a/"+f.Path, "b/"+f.Path, f.Old, f.New); err != nil {
			fmt.Fprintf(s.err, "hushbuild migrate: %v\n", err)
			return exitUsage
		}
		code = exitFindings
	}
	for _, n := range res.Notes {
		fmt.Fprintln(s.err, n)
		code = exitFindings
	}
	for _, e := range res.Errors {
		fmt.Fprintf(s.err, "hushbuild migrate: %v (left unchanged)\n", e)
	}
	if len(res.Errors) > 0 {
		return exitUsage
	}
	return code
}

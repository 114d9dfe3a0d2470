package frontend

import (
	"context"
	"fmt"
	"os"
	"path"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hushbuild/hushbuild/rewrite"
)

// readRepoConfig reads .hushbuild.yaml at the root of the build context,
// as `hushbuild check` reads it next to the Dockerfile: a transfer of that
// one file (the .dockerignore does not apply: a configuration the CLI
// follows and the build ignored would let the build do less than the check
// said). It returns nil when the context has none, and an error when the
// file cannot be read or parsed: its settings may be what keeps a secret
// out.
func readRepoConfig(ctx context.Context, c client.Client, bc *dockerui.Client) (*rewrite.Config, error) {
	st, err := bc.MainContext(ctx,
		llb.ExcludePatterns(nil),
		llb.IncludePatterns([]string{rewrite.RepoConfigName}),
		llb.SharedKeyHint("hushbuild-repo-config"),
		dockerui.WithInternalName("hushbuild: read "+rewrite.RepoConfigName+" of the build context"))
	if err != nil || st == nil {
		return nil, err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, fmt.Errorf("hushbuild: reading %s of the build context: %w", rewrite.RepoConfigName, err)
	}
	ref, err := res.SingleRef()
	if err != nil || ref == nil {
		return nil, err
	}
	entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: "/", IncludePattern: rewrite.RepoConfigName})
	if err != nil {
		return nil, fmt.Errorf("hushbuild: reading %s of the build context: %w", rewrite.RepoConfigName, err)
	}
	found := false
	for _, e := range entries {
		if path.Base(e.Path) != rewrite.RepoConfigName {
			continue
		}
		if !os.FileMode(e.Mode).IsRegular() {
			return nil, fmt.Errorf("hushbuild: %s of the build context is not a regular file", rewrite.RepoConfigName)
		}
		found = true
	}
	if !found {
		return nil, nil
	}
	data, err := ref.ReadFile(ctx, client.ReadRequest{
		Filename: "/" + rewrite.RepoConfigName,
		Range:    &client.FileRange{Length: rewrite.MaxRepoConfigSize + 1},
	})
	if err != nil {
		return nil, fmt.Errorf("hushbuild: reading %s of the build context: %w", rewrite.RepoConfigName, err)
	}
	cfg, err := rewrite.ParseRepoConfig(data)
	if err != nil {
		return nil, fmt.Errorf("hushbuild: the build context's %w", err)
	}
	return &cfg, nil
}
